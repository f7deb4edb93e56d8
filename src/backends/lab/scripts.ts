// The shell scripts and sshd configuration of a lab host. Pure functions.
//
// A host is: a network namespace with a veth on the lab bridge; a tmpfs of its
// own in the root mount namespace holding the upper and work layers of an
// overlay over `/`; and, started by `nsenter --net=/run/netns/NS unshare --pid
// --fork --mount --uts --kill-child sh boot.sh`, a process tree of its own whose
// first process mounts the overlay, pivots into it and becomes sshd (sshd
// reaps orphans like an init must). Killing the `unshare` process kills the
// whole tree (--kill-child, then the kernel empties the pid namespace) and
// drops the host's mounts with its mount namespace; the tmpfs, thus the
// files, survive for a reboot.

import { shQuote } from "../../transport/ssh/remote.js";
import { BRIDGE, BRIDGE_MAC, GATEWAY, NET_PREFIX, PREFIX_LENGTH } from "./layout.js";
import type { HostPaths } from "./layout.js";
import type { ExtraLayer } from "./machine-mounts.js";

/** Where the host's sshd files live inside the host. */
export const HOST_SSH_DIR = "/etc/troupe-lab";

export interface SlotNames {
  readonly netns: string;
  readonly veth: string;
  /** The slot's address (its neighbour entry on the bridge goes with it). */
  readonly address: string;
  readonly paths: HostPaths;
}

export interface PrepareParams extends SlotNames {
  readonly mac: string;
}

/**
 * The neighbour (ARP) table. The kernel keeps one table for every network
 * namespace, and by default starts refusing new entries at 1024
 * (`gc_thresh3`): a lab of 500 hosts that all talk to the machine needs a
 * thousand, one on each side. So the lab pins what it knows: every host's
 * entry on the bridge, and the gateway's in every host, as permanent entries
 * (their MACs are fixed per slot), which need no ARP and, being permanent,
 * do not count against the thresholds. What the hosts learn talking to each
 * other still counts; for that the lab raises the thresholds to a size for
 * a full lab (about 8 neighbours per host before the kernel collects, 16 at
 * most) while it has hosts, and puts back the values it found when its
 * bridge goes (unless someone changed them since).
 */
export const NEIGH_SYSCTL_DIR = "/proc/sys/net/ipv4/neigh/default";
export const NEIGH_THRESHOLDS = { gc_thresh2: 8 * 1024, gc_thresh3: 16 * 1024 } as const;

/**
 * Raise the thresholds that are below the lab's, writing `name original
 * lab-value` lines to `saved` the first time (run under the bridge lock).
 */
export function raiseNeighScript(saved: string, dir: string = NEIGH_SYSCTL_DIR): string {
  const f = shQuote(saved);
  return Object.entries(NEIGH_THRESHOLDS)
    .map(([name, want]) => {
      const file = shQuote(`${dir}/${name}`);
      return [
        // Not `read`: dash reads a byte at a time, and /proc/sys answers only the first.
        `if cur=$(cat ${file}) && [ "$cur" -lt ${want} ]; then`,
        `  grep -qs '^${name} ' ${f} || echo "${name} $cur ${want}" >> ${f}`,
        `  echo ${want} > ${file}`,
        "fi",
      ].join("\n");
    })
    .join("\n");
}

/** Put back what `raiseNeighScript` saved, where the value is still the lab's; forget it. */
export function restoreNeighScript(saved: string, dir: string = NEIGH_SYSCTL_DIR): string {
  const f = shQuote(saved);
  return [
    `if [ -f ${f} ]; then`,
    "  while read -r name orig want; do",
    '    case "$name" in gc_thresh[123]) ;; *) continue ;; esac',
    `    cur=$(cat ${shQuote(dir)}/"$name") || continue`,
    `    [ "$cur" != "$want" ] || echo "$orig" > ${shQuote(dir)}/"$name"`,
    `  done < ${f}`,
    `  rm -f ${f}`,
    "fi",
  ].join("\n");
}

/** Create the bridge unless it exists; keep the host's firewall out of bridged traffic. */
export function bridgeScript(): string {
  const b = BRIDGE;
  return [
    `if [ ! -e /sys/class/net/${b} ]; then`,
    `  ip link add ${b} address ${BRIDGE_MAC} type bridge 2>/dev/null || [ -e /sys/class/net/${b} ] || exit 1`,
    "fi",
    `ip link set ${b} address ${BRIDGE_MAC}`,
    `ip addr replace ${GATEWAY}/${PREFIX_LENGTH} dev ${b}`,
    `ip link set ${b} up`,
    // With br_netfilter loaded, a FORWARD policy of DROP (Docker's) would cut hosts off from each other.
    `ip link set ${b} type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 2>/dev/null || true`,
  ].join("\n");
}

/**
 * The first lines of a script that must not run beside another troupe
 * process's bridge set-up or removal: it holds the lab's bridge lock until it
 * ends. Without it, a process that saw no host left could remove the bridge
 * between another's check that the bridge is up and its veth plugged in.
 */
export function bridgeLockLines(lockFile: string): string[] {
  return [`exec 9>>${shQuote(lockFile)}`, "flock 9"];
}

/** Set the bridge up unless it is already: our MAC, and up (IFF_UP). */
function ensureBridgeScript(): string {
  const b = BRIDGE;
  return [
    "m=; f=",
    `{ read -r m </sys/class/net/${b}/address; read -r f </sys/class/net/${b}/flags; } 2>/dev/null || true`,
    `if [ "$m" != ${BRIDGE_MAC} ] || [ $(( \${f:-0} & 1 )) -ne 1 ]; then`,
    bridgeScript(),
    "fi",
  ].join("\n");
}

/**
 * Remove the bridge if no host record is left (exit 3 if one is), and put
 * back the neighbour-table thresholds saved in `neighSaved`.
 */
export function removeBridgeScript(hostsDir: string, lockFile: string, neighSaved?: string): string {
  return [
    ...bridgeLockLines(lockFile),
    `for f in ${shQuote(hostsDir)}/*.json; do [ ! -e "$f" ] || exit 3; done`,
    `ip link del ${BRIDGE} 2>/dev/null || [ ! -e /sys/class/net/${BRIDGE} ]`,
    ...(neighSaved !== undefined ? [restoreNeighScript(neighSaved)] : []),
  ].join("\n");
}

/**
 * Make the host's namespace, veth and tmpfs (root namespace side), the
 * bridge too if need be, with the host's neighbour entry pinned and the
 * thresholds raised (`neighSaved` keeps what they were).
 */
export function prepareScript(s: PrepareParams, tmpfsSize: string, lockFile: string, neighSaved?: string): string {
  const p = s.paths;
  return [
    "set -eu",
    ...bridgeLockLines(lockFile),
    ensureBridgeScript(),
    ...(neighSaved !== undefined ? [raiseNeighScript(neighSaved)] : []),
    `ip netns add ${s.netns}`,
    `ip link add ${s.veth} type veth peer name eth0 address ${s.mac} netns ${s.netns}`,
    `ip link set ${s.veth} master ${BRIDGE} up`,
    // The host's MAC is fixed per slot: no ARP, and no count against gc_thresh3 (see NEIGH_THRESHOLDS).
    `ip neigh replace ${s.address} lladdr ${s.mac} dev ${BRIDGE} nud permanent`,
    `mkdir -p ${shQuote(p.fs)}`,
    `mount -t tmpfs -o ${shQuote(`mode=755,size=${tmpfsSize}`)} troupe-lab ${shQuote(p.fs)}`,
    `mkdir -p ${shQuote(p.upper)} ${shQuote(p.work)} ${shQuote(p.root)}`,
  ].join("\n");
}

export interface BootParams {
  readonly paths: HostPaths;
  readonly hostname: string;
  readonly address: string;
  /** The machine's other disk filesystems, each overlaid on its own. */
  readonly layers?: readonly ExtraLayer[];
}

/** What the host's first process runs (inside its netns, pid, mount and uts namespaces). */
export function bootScript(b: BootParams): string {
  const p = b.paths;
  const R = '"$ROOT"';
  return [
    "set -eu",
    `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH`,
    `ROOT=${shQuote(p.root)}`,
    // After a reboot, the old overlay may take a moment to be released.
    "n=0",
    `until mount -t overlay troupe-lab -o ${shQuote(`lowerdir=/,upperdir=${p.upper},workdir=${p.work}`)} ${R}; do`,
    '  n=$((n+1)); [ "$n" -lt 50 ] || exit 1; sleep 0.1',
    "done",
    ...(b.layers ?? []).flatMap((l) => {
      const dir = `${p.fs}/layers/${l.key}`;
      const opts = shQuote(`lowerdir=${l.mountPoint},upperdir=${dir}/upper,workdir=${dir}/work`);
      return [
        `if [ -d ${shQuote(l.mountPoint)} ] && [ -d ${R}${shQuote(l.mountPoint)} ]; then`,
        `  mkdir -p ${shQuote(`${dir}/upper`)} ${shQuote(`${dir}/work`)}`,
        `  mount -t overlay troupe-lab -o ${opts} ${R}${shQuote(l.mountPoint)} || echo ${shQuote(`troupe-lab: cannot overlay ${l.mountPoint}`)} >&2`,
        "fi",
      ];
    }),
    `mount -t proc proc ${R}/proc`,
    `mount -t sysfs sysfs ${R}/sys`,
    `mount -t tmpfs -o mode=755,size=64m troupe-dev ${R}/dev`,
    "for d in null zero full random urandom tty; do",
    `  : > ${R}/dev/$d; mount --bind /dev/$d ${R}/dev/$d`,
    "done",
    `if [ -c /dev/net/tun ]; then mkdir ${R}/dev/net; : > ${R}/dev/net/tun; mount --bind /dev/net/tun ${R}/dev/net/tun; fi`,
    `if [ -c /dev/fuse ]; then : > ${R}/dev/fuse; mount --bind /dev/fuse ${R}/dev/fuse; fi`,
    `mkdir ${R}/dev/pts ${R}/dev/shm`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts ${R}/dev/pts`,
    `ln -s pts/ptmx ${R}/dev/ptmx`,
    `mount -t tmpfs -o mode=1777 shm ${R}/dev/shm`,
    `ln -s /proc/self/fd ${R}/dev/fd`,
    `ln -s /proc/self/fd/0 ${R}/dev/stdin`,
    `ln -s /proc/self/fd/1 ${R}/dev/stdout`,
    `ln -s /proc/self/fd/2 ${R}/dev/stderr`,
    `mount -t tmpfs -o mode=755 run ${R}/run`,
    `mkdir -m 1777 ${R}/run/lock`,
    `mount -t tmpfs -o mode=1777 tmp ${R}/tmp`,
    `mkdir -p ${R}/.troupe-oldroot`,
    `cd ${R}`,
    "pivot_root . .troupe-oldroot",
    "cd /",
    // Drop every mount of the machine (and of the other hosts) from this namespace.
    "umount -l /.troupe-oldroot",
    "rmdir /.troupe-oldroot",
    `echo ${shQuote(b.hostname)} > /proc/sys/kernel/hostname`,
    "ip link set lo up",
    `ip addr replace ${b.address}/${PREFIX_LENGTH} dev eth0`,
    "ip link set eth0 up",
    // The gateway's MAC is fixed too (see NEIGH_THRESHOLDS).
    `ip neigh replace ${GATEWAY} lladdr ${BRIDGE_MAC} dev eth0 nud permanent`,
    `ip route replace default via ${GATEWAY}`,
    "mkdir -p -m 755 /run/sshd",
    `exec /usr/sbin/sshd -D -e -f ${HOST_SSH_DIR}/sshd_config`,
  ].join("\n");
}

export interface SshdParams {
  readonly address: string;
  /** Also accept root's password (set from the system's `password`). */
  readonly passwordLogin: boolean;
}

export function sshdConfig(s: SshdParams): string {
  return [
    `ListenAddress ${s.address}`,
    "Port 22",
    `HostKey ${HOST_SSH_DIR}/ssh_host_ed25519_key`,
    `AuthorizedKeysFile ${HOST_SSH_DIR}/authorized_keys`,
    `PermitRootLogin ${s.passwordLogin ? "yes" : "prohibit-password"}`,
    "PubkeyAuthentication yes",
    `PasswordAuthentication ${s.passwordLogin ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "UseDNS no",
    // One master connection per host from troupe, many sessions over it.
    "MaxSessions 128",
    "MaxStartups 64:30:256",
    "PidFile none",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    "Subsystem sftp internal-sftp",
    // bash sources ~/.bashrc for every command run over ssh unless it is a
    // nested shell; a slow .bashrc copied from the machine (pyenv, nvm...)
    // would cost each of troupe's sessions that much time.
    "SetEnv SHLVL=1",
    "",
  ].join("\n");
}

/** `/etc/hosts` of a host: the machine's, with the host's own name added. */
export function hostsFile(machineHosts: string, hostname: string, address: string): string {
  const base = machineHosts.endsWith("\n") || machineHosts === "" ? machineHosts : `${machineHosts}\n`;
  return `${base}${address}\t${hostname}\n`;
}

/**
 * Remove what is left of a slot (root namespace side), whatever state it is
 * in: processes in its netns, the tmpfs, the veth, the netns, the files.
 * Idempotent; the record is removed by the caller, last.
 */
export function teardownScript(s: SlotNames): string {
  const p = s.paths;
  const fs = shQuote(p.fs);
  return [
    `if [ -e /run/netns/${s.netns} ]; then`,
    `  for p in $(ip netns pids ${s.netns} 2>/dev/null); do kill -9 "$p" 2>/dev/null; done`,
    "  i=0",
    `  while [ -n "$(ip netns pids ${s.netns} 2>/dev/null)" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i+1)); done`,
    "fi",
    `ip neigh del ${s.address} dev ${BRIDGE} 2>/dev/null || true`,
    `while grep -q " ${p.fs} " /proc/mounts; do umount ${fs} 2>/dev/null || umount -l ${fs} || break; done`,
    `if [ -e /sys/class/net/${s.veth} ]; then ip link del ${s.veth} 2>/dev/null || true; fi`,
    `if [ -e /run/netns/${s.netns} ]; then ip netns del ${s.netns} 2>/dev/null || true; fi`,
    `rm -rf ${shQuote(p.dir)}`,
  ].join("\n");
}

/** The subnet, for messages. */
export const LAB_SUBNET = `${NET_PREFIX}.0.0/${PREFIX_LENGTH}`;
