// The machine's other disk filesystems (/home, /var, /boot... on partitions
// of their own). An overlay of `/` shows only the root filesystem, so each of
// these gets an overlay of its own inside the host.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** Filesystems that hold files of the machine (not kernel views, not memory). */
const DISK_TYPES = new Set([
  "ext2",
  "ext3",
  "ext4",
  "xfs",
  "btrfs",
  "f2fs",
  "zfs",
  "jfs",
  "reiserfs",
  "vfat",
  "exfat",
  "ntfs",
  "ntfs3",
  "overlay",
  "fuseblk",
  "nfs",
  "nfs4",
  "cifs",
  "9p",
  "virtiofs",
]);

/** Trees a host gets fresh anyway, and where nothing of the machine should show. */
const SKIP_UNDER = ["/proc", "/sys", "/dev", "/run", "/tmp", "/var/run", "/var/lock"];

export interface ExtraLayer {
  /** Where it is mounted on the machine (and in the host). */
  readonly mountPoint: string;
  /** A directory name for its upper and work layers. */
  readonly key: string;
}

function unescapeMounts(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Parse /proc/mounts text into the layers a host needs, parents first. Pure. */
export function extraLayersFrom(procMounts: string, stateDir: string): ExtraLayer[] {
  const seen = new Set<string>();
  const out: ExtraLayer[] = [];
  for (const line of procMounts.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 3) continue;
    const mountPoint = unescapeMounts(fields[1]!);
    const type = fields[2]!;
    if (mountPoint === "/" || !mountPoint.startsWith("/") || !DISK_TYPES.has(type)) continue;
    if (SKIP_UNDER.some((d) => under(mountPoint, d)) || under(mountPoint, stateDir)) continue;
    // overlay's option syntax cannot carry these characters.
    if (/[\s,:\\=]/.test(mountPoint)) continue;
    if (seen.has(mountPoint)) continue;
    seen.add(mountPoint);
    const hash = createHash("sha1").update(mountPoint).digest("hex").slice(0, 8);
    out.push({
      mountPoint,
      key: `${mountPoint
        .slice(1)
        .replace(/[^A-Za-z0-9]+/g, "_")
        .slice(0, 40)}-${hash}`,
    });
  }
  return out.sort((a, b) => a.mountPoint.split("/").length - b.mountPoint.split("/").length || a.mountPoint.localeCompare(b.mountPoint));
}

/** What extraLayers found lately, and when. */
let cached: { stateDir: string; at: number; layers: ExtraLayer[] } | undefined;

/**
 * The layers for this machine now (as of a few seconds ago: with a lab of
 * 1,000 hosts, /proc/self/mounts holds some 2,000 of its mounts, too many to
 * read again for each host of a lab being brought up).
 */
export function extraLayers(stateDir: string): ExtraLayer[] {
  const now = Date.now();
  if (cached && cached.stateDir === stateDir && now - cached.at < 5000) return cached.layers;
  let layers: ExtraLayer[];
  try {
    layers = extraLayersFrom(readFileSync("/proc/self/mounts", "utf8"), stateDir);
  } catch {
    layers = [];
  }
  cached = { stateDir, at: now, layers };
  return layers;
}
