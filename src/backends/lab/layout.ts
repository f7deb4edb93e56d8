// Names, addresses and paths of the lab. Pure functions: no I/O.
//
// One lab per machine: every troupe process shares the bridge, the address
// range and the state directory, and claims host slots there. Slot N is
// everything of one host: netns `troupe-lab-N`, veth `tlabN` (bridge side;
// `eth0` inside), address number N in 10.213.0.0/16, files under
// `<state>/hosts/N/`, and the record `<state>/hosts/N.json`.

import { join } from "node:path";

export const DEFAULT_STATE_DIR = "/run/troupe-lab";
export const BRIDGE = "troupe-lab0";
export const NET_PREFIX = "10.213";
export const PREFIX_LENGTH = 16;
export const GATEWAY = `${NET_PREFIX}.0.1`;
/** A Linux bridge takes at most 1024 ports. */
export const MAX_SLOTS = 1000;
export const NETNS_PREFIX = "troupe-lab-";
export const VETH_PREFIX = "tlab";

/** The address of slot `slot` (1-based): 10.213.0.2 for slot 1, skipping .0, .255 and the gateway. */
export function slotAddress(slot: number): string {
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOTS) throw new RangeError(`lab slot ${slot} out of range 1..${MAX_SLOTS}`);
  const third = Math.floor(slot / 254);
  const fourth = (slot % 254) + 1;
  return `${NET_PREFIX}.${third}.${fourth}`;
}

/** The slot whose address is `address` (the inverse of slotAddress), if it is one. */
export function slotOfAddress(address: string): number | undefined {
  const m = /^10\.213\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return undefined;
  const slot = Number(m[1]) * 254 + Number(m[2]) - 1;
  return slot >= 1 && slot <= MAX_SLOTS && slotAddress(slot) === address ? slot : undefined;
}

/**
 * The MAC of slot `slot`'s eth0: fixed per slot, so that when a slot (thus
 * its address) is used again, neighbour caches everywhere still hold the
 * right MAC for that address.
 */
export function slotMac(slot: number): string {
  slotAddress(slot); // range check
  const hex = slot.toString(16).padStart(4, "0");
  return `02:74:6c:00:${hex.slice(0, 2)}:${hex.slice(2)}`;
}

/** The bridge's MAC, fixed: by default a bridge takes its lowest port's, which changes as hosts come and go. */
export const BRIDGE_MAC = "02:74:6c:ff:00:01";

export function netnsName(slot: number): string {
  return `${NETNS_PREFIX}${slot}`;
}

export function vethName(slot: number): string {
  return `${VETH_PREFIX}${slot}`;
}

/** The slot a netns or veth name belongs to, if it is one of ours. */
export function slotOfName(name: string): number | undefined {
  const m = /^(?:troupe-lab-|tlab)(\d{1,4})$/.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= MAX_SLOTS ? n : undefined;
}

export interface LabPaths {
  readonly root: string;
  readonly hostsDir: string;
  /** The lab's own key pair: the one key every lab host accepts. */
  readonly keyFile: string;
  readonly pubFile: string;
  /** Every host's key, for `ssh -o UserKnownHostsFile=...`. */
  readonly knownHosts: string;
  /** `Host` entries of the kept labs, for `ssh -F ... NAME`. */
  readonly sshConfig: string;
  /**
   * flock(1)ed by whoever sets up the bridge and plugs a host into it, and by
   * whoever removes the bridge once no host is left: troupe processes share it.
   */
  readonly bridgeLock: string;
  /** The neighbour-table thresholds the lab raised, and what they were (see scripts.ts). */
  readonly neighSaved: string;
  /** `ip -batch` lines pinning every slot's neighbour entry on the bridge, and the bridge (ifindex) they were added to. */
  readonly neighBatch: string;
  readonly neighPinned: string;
}

export function labPaths(stateDir: string = DEFAULT_STATE_DIR): LabPaths {
  return {
    root: stateDir,
    hostsDir: join(stateDir, "hosts"),
    keyFile: join(stateDir, "id_ed25519"),
    pubFile: join(stateDir, "id_ed25519.pub"),
    knownHosts: join(stateDir, "known_hosts"),
    sshConfig: join(stateDir, "ssh_config"),
    bridgeLock: join(stateDir, "bridge.lock"),
    neighSaved: join(stateDir, "neigh-thresholds"),
    neighBatch: join(stateDir, "neigh.batch"),
    neighPinned: join(stateDir, "neigh.pinned"),
  };
}

export interface HostPaths {
  readonly record: string;
  readonly dir: string;
  /** The per-host tmpfs: upper and work layers of the overlay, and its mount point. */
  readonly fs: string;
  readonly upper: string;
  readonly work: string;
  readonly root: string;
  /** On the host's tmpfs, bound into it at each boot: `/dev` (kept), `/run`, `/tmp` and `/dev/shm` (emptied). */
  readonly dev: string;
  readonly run: string;
  readonly tmp: string;
  readonly shm: string;
  /** What the host mounts at boot, as fstab files for `mount -a -T`: what it needs, and the machine's other filesystems. */
  readonly fstab: string;
  readonly layersFstab: string;
  readonly bootScript: string;
  readonly log: string;
  /** This host's key only, for the transport's StrictHostKeyChecking=yes. */
  readonly knownHosts: string;
}

export function hostPaths(stateDir: string, slot: number): HostPaths {
  const hostsDir = labPaths(stateDir).hostsDir;
  const dir = join(hostsDir, String(slot));
  const fs = join(dir, "fs");
  return {
    record: join(hostsDir, `${slot}.json`),
    dir,
    fs,
    upper: join(fs, "upper"),
    work: join(fs, "work"),
    root: join(fs, "root"),
    dev: join(fs, "dev"),
    run: join(fs, "run"),
    tmp: join(fs, "tmp"),
    shm: join(fs, "shm"),
    fstab: join(dir, "fstab"),
    layersFstab: join(dir, "fstab.layers"),
    bootScript: join(dir, "boot.sh"),
    log: join(dir, "log"),
    knownHosts: join(dir, "known_hosts"),
  };
}

/** A host name that is also a valid hostname label sequence: letters, digits, `-` and `.`, at most 63 characters. */
export function hostnameFor(text: string): string {
  const clean = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 63)
    .replace(/[-.]+$/, "");
  return clean || "lab";
}
