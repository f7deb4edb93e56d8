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

import { shWord } from "../../exec/shell-quote.js";
import { BRIDGE, BRIDGE_MAC, GATEWAY, MAX_SLOTS, NET_PREFIX, PREFIX_LENGTH, slotAddress, slotMac } from "./layout.js";
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
 * thousand, one on each side. So the lab pins what it knows: the entry of
 * every slot on the bridge (addresses and MACs are fixed per slot: all
 * 1,000 at once, when the bridge is new, since each `ip neigh` reads every
 * link of the machine) and the gateway's in every host, as permanent
 * entries, which need no ARP and, being permanent, do not count against the
 * thresholds. What the hosts learn talking to each other still counts; for
 * that the lab raises the thresholds to a size for a full lab (about 8
 * neighbours per host before the kernel collects, 16 at most) while it has
 * hosts, and puts back the values it found when its bridge goes (unless
 * someone changed them since).
 */
export const NEIGH_SYSCTL_DIR = "/proc/sys/net/ipv4/neigh/default";
export const NEIGH_THRESHOLDS = { gc_thresh2: 8 * 1024, gc_thresh3: 16 * 1024 } as const;

/**
 * Raise the thresholds that are below the lab's, writing `name original
 * lab-value` lines to `saved` the first time (run under the bridge lock).
 */
export function raiseNeighScript(saved: string, dir: string = NEIGH_SYSCTL_DIR): string {
  const f = shWord(saved);
  return Object.entries(NEIGH_THRESHOLDS)
    .map(([name, want]) => {
      const file = shWord(`${dir}/${name}`);
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
  const f = shWord(saved);
  return [
    `if [ -f ${f} ]; then`,
    "  while read -r name orig want; do",
    '    case "$name" in gc_thresh[123]) ;; *) continue ;; esac',
    `    cur=$(cat ${shWord(dir)}/"$name") || continue`,
    `    [ "$cur" != "$want" ] || echo "$orig" > ${shWord(dir)}/"$name"`,
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
  return [`exec 9>>${shWord(lockFile)}`, "flock 9"];
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
    `for f in ${shWord(hostsDir)}/*.json; do [ ! -e "$f" ] || exit 3; done`,
    `ip link del ${BRIDGE} 2>/dev/null || [ ! -e /sys/class/net/${BRIDGE} ]`,
    ...(neighSaved !== undefined ? [restoreNeighScript(neighSaved)] : []),
  ].join("\n");
}

/** `ip -batch` lines that pin the neighbour entry of every slot on the bridge. */
export function neighBatch(): string {
  const lines: string[] = [];
  for (let slot = 1; slot <= MAX_SLOTS; slot++) {
    lines.push(`neigh replace ${slotAddress(slot)} lladdr ${slotMac(slot)} dev ${BRIDGE} nud permanent`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Pin every slot's entry (the lines of `batch`) unless `pinned` says it was
 * done for this bridge (its ifindex: a new bridge has none of them).
 */
function pinNeighboursScript(batch: string, pinned: string): string {
  return [
    "i=; p=",
    `read -r i < /sys/class/net/${BRIDGE}/ifindex`,
    `read -r p < ${shWord(pinned)} 2>/dev/null || true`,
    `if [ "$i" != "$p" ]; then ip -batch ${shWord(batch)} && echo "$i" > ${shWord(pinned)}; fi`,
  ].join("\n");
}

/** Device nodes a host gets (copies of the machine's), where the machine has them. */
export const HOST_DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/net/tun", "/dev/fuse"];

/**
 * Make the host's namespace, veth and tmpfs (root namespace side) with its
 * device nodes, then plug it into the bridge (set up if need be, with the
 * slots' neighbour entries pinned: `neighBatch`, `neighPinned`) and the
 * thresholds raised (`neighSaved` keeps what they were). Only the plugging holds the bridge lock, since every host
 * being made waits for it. Each command here is a process to start, which
 * is what making a host costs most: the `ip` commands go in batches.
 * `devices`: those of HOST_DEVICES the machine has; `raiseNeigh`: whether
 * the thresholds may need raising (they need not once they are).
 */
export function prepareScript(
  s: PrepareParams,
  tmpfsSize: string,
  lockFile: string,
  o: { neighSaved?: string; neighBatch?: string; neighPinned?: string; devices?: readonly string[] } = {},
): string {
  const p = s.paths;
  return [
    "set -eu",
    `ip -batch - <<'EOF'`,
    `netns add ${s.netns}`,
    `link add ${s.veth} type veth peer name eth0 address ${s.mac} netns ${s.netns}`,
    "EOF",
    `mount -t tmpfs -o ${shWord(`mode=755,size=${tmpfsSize}`)} troupe-lab ${shWord(p.fs)}`,
    // Relative to /: with absolute names, cp --parents fails to set the modes of the directories it makes.
    ...(o.devices?.length
      ? ["cd /", `cp -a --parents ${o.devices.map((d) => shWord(d.replace(/^\/+/, ""))).join(" ")} ${shWord(p.fs)}`]
      : []),
    ...bridgeLockLines(lockFile),
    ensureBridgeScript(),
    ...(o.neighSaved !== undefined ? [raiseNeighScript(o.neighSaved)] : []),
    ...(o.neighBatch !== undefined && o.neighPinned !== undefined ? [pinNeighboursScript(o.neighBatch, o.neighPinned)] : []),
    `ip link set ${s.veth} master ${BRIDGE} up`,
  ].join("\n");
}

/** A path as a field of an fstab line (whitespace and backslashes in octal). */
function fstabField(path: string): string {
  return path.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/**
 * What a host mounts in its new root once the overlay of `/` is there: the
 * kernel's views, and its `/dev`, `/dev/pts`, `/dev/shm`, `/run` and `/tmp`
 * from directories of its own tmpfs. One `mount -a` for all of them, where a
 * `mount` for each cost a process each.
 */
export function hostFstab(p: HostPaths): string {
  const r = (path: string): string => fstabField(`${p.root}${path}`);
  return [
    `proc ${r("/proc")} proc defaults 0 0`,
    `sysfs ${r("/sys")} sysfs defaults 0 0`,
    `${fstabField(p.dev)} ${r("/dev")} none bind 0 0`,
    `devpts ${r("/dev/pts")} devpts newinstance,ptmxmode=0666,mode=620,gid=5 0 0`,
    `${fstabField(p.shm)} ${r("/dev/shm")} none bind 0 0`,
    `${fstabField(p.run)} ${r("/run")} none bind 0 0`,
    `${fstabField(p.tmp)} ${r("/tmp")} none bind 0 0`,
    "",
  ].join("\n");
}

/** The overlays of the machine's other filesystems (see machine-mounts.ts); their directories are made beforehand. */
export function layersFstab(p: HostPaths, layers: readonly ExtraLayer[]): string {
  return layers
    .map((l) => {
      const dir = layerDir(p, l);
      const opts = `lowerdir=${l.mountPoint},upperdir=${dir}/upper,workdir=${dir}/work`;
      return `troupe-lab ${fstabField(`${p.root}${l.mountPoint}`)} overlay ${fstabField(opts)} 0 0\n`;
    })
    .join("");
}

/** Where the upper and work layers of `l` live. */
export function layerDir(p: HostPaths, l: ExtraLayer): string {
  return `${p.fs}/layers/${l.key}`;
}

export interface BootParams {
  readonly paths: HostPaths;
  readonly hostname: string;
  readonly address: string;
  /** Whether the machine has other disk filesystems to overlay (in `paths.layersFstab`). */
  readonly layers?: boolean;
  /**
   * sshd forks a connection's process without executing itself again
   * (`-r`): a third of what a connection costs the host, 8 ms of CPU of 25.
   * The new image per connection is about randomising a long-lived
   * server's layout; a lab host is neither. Only for sshd before 9.8, where
   * `-r` is what it was (see sshdCanSkipReexec).
   */
  readonly sshdNoReexec?: boolean;
}

/**
 * What the host's first process runs (inside its netns, pid, mount and uts
 * namespaces): mount the overlay of `/` and what `hostFstab` lists, pivot
 * into it, drop the machine's mounts, set up the network and become sshd.
 * Its directories and files were made beforehand (host.ts), and each
 * command here is a process: there are few.
 */
export function bootScript(b: BootParams): string {
  const p = b.paths;
  const R = '"$ROOT"';
  return [
    "set -eu",
    `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH`,
    `ROOT=${shWord(p.root)}`,
    // After a reboot, the old overlay may take a moment to be released.
    "n=0",
    `until mount -t overlay troupe-lab -o ${shWord(`lowerdir=/,upperdir=${p.upper},workdir=${p.work}`)} ${R}; do`,
    '  n=$((n+1)); [ "$n" -lt 50 ] || exit 1; sleep 0.1',
    "done",
    ...(b.layers
      ? [`mount -a -T ${shWord(p.layersFstab)} || echo 'troupe-lab: cannot overlay some of the machine'"'"'s filesystems' >&2`]
      : []),
    `mount -a -T ${shWord(p.fstab)}`,
    `cd ${R}`,
    // The old root goes on top of the new one, and is dropped with every
    // mount of the machine (and of the other hosts) under it.
    "pivot_root . .",
    "umount -l .",
    "cd /",
    `echo ${shWord(b.hostname)} > /proc/sys/kernel/hostname`,
    // No duplicate address detection (addresses are unique by making) and no
    // router solicitations (there is no router): each is a multicast that the
    // bridge floods to every host of the lab.
    "for f in accept_dad dad_transmits router_solicitations; do",
    '  [ ! -w "/proc/sys/net/ipv6/conf/eth0/$f" ] || echo 0 > "/proc/sys/net/ipv6/conf/eth0/$f"',
    "done",
    `ip -batch - <<'EOF'`,
    "link set lo up",
    `addr replace ${b.address}/${PREFIX_LENGTH} dev eth0`,
    "link set eth0 up",
    // The gateway's MAC is fixed too (see NEIGH_THRESHOLDS).
    `neigh replace ${GATEWAY} lladdr ${BRIDGE_MAC} dev eth0 nud permanent`,
    `route replace default via ${GATEWAY}`,
    "EOF",
    `exec /usr/sbin/sshd -D -e${b.sshdNoReexec ? " -r" : ""} -f ${HOST_SSH_DIR}/sshd_config`,
  ].join("\n");
}

/**
 * Whether an sshd saying `version` (`sshd -V`: "OpenSSH_9.2p1 Debian...")
 * takes `-r`: OpenSSH before 9.8, where sshd became a listener that starts
 * sshd-session for each connection.
 */
export function sshdCanSkipReexec(version: string): boolean {
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 9 || (major === 9 && minor < 8);
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
  const fs = shWord(p.fs);
  return [
    // Usually none: the host's processes went with its pid namespace. Each look scans every process of the machine.
    `if [ -e /run/netns/${s.netns} ] && p=$(ip netns pids ${s.netns} 2>/dev/null) && [ -n "$p" ]; then`,
    "  kill -9 $p 2>/dev/null",
    "  i=0",
    `  while [ -n "$(ip netns pids ${s.netns} 2>/dev/null)" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i+1)); done`,
    "fi",
    `while grep -q " ${p.fs} " /proc/mounts; do umount ${fs} 2>/dev/null || umount -l ${fs} || break; done`,
    // -force: go on past what is not there (any more). The slot's neighbour entry stays, for its next host.
    `ip -force -batch - <<'EOF' 2>/dev/null || true`,
    `link del ${s.veth}`,
    `netns del ${s.netns}`,
    "EOF",
    `rm -rf ${shWord(p.dir)}`,
  ].join("\n");
}

/** The subnet, for messages. */
export const LAB_SUBNET = `${NET_PREFIX}.0.0/${PREFIX_LENGTH}`;
