// What a qemu system asks for, read from the project: pure, apart from the
// `exists` function it is given to look for files.
//
// Spread's keys, with Spread's meaning (spread/qemu.go):
//   image (system; default: the system's name): the VM's disk is
//     ~/.spread/qemu/<image>.img
//   memory (backend; default 1500M): the VM's memory
//   bios (system): unset (QEMU's own BIOS) or `uefi` (OVMF)
//   username / password (system): how to log in over ssh
// troupe's own:
//   memory (system): overrides the backend's
//   cpus (system or backend; default 1)
//   kernel, initrd (system or backend): boot this kernel and initrd directly,
//     no bootloader needed; relative paths are from the image's folder. By
//     default <image>.vmlinuz and <image>.initrd next to the image, when both
//     are there.
//   append (system or backend): the kernel's command line for a direct boot
//     (default `root=/dev/vda rw console=ttyS0`)
//   boot-timeout (system or backend; default 5m): how long the VM may take
//     until its sshd answers

import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { parseDuration } from "../../config/duration.js";
import { TroupeError, type Problem } from "../../util/errors.js";

/** Spread's default memory for a qemu VM, in MiB. */
export const DEFAULT_MEMORY_MB = 1500;
/** The kernel command line of a direct boot: a partitionless root filesystem on the first virtio disk. */
export const DEFAULT_APPEND = "root=/dev/vda rw console=ttyS0";
/** Spread waits 5 minutes for the port to answer. */
export const DEFAULT_BOOT_TIMEOUT_MS = 5 * 60_000;
/** Spread logs in as root unless the system says otherwise. */
export const DEFAULT_USERNAME = "root";
/**
 * Spread has no default password for qemu (its -pass, random when not given,
 * is only right when the image was made with it): troupe's images accept
 * root with this one, and the backend uses it when the system sets none.
 */
export const DEFAULT_PASSWORD = "troupe";

export interface DirectBoot {
  readonly kernel: string;
  readonly initrd?: string;
  readonly append: string;
}

export interface QemuSystemConfig {
  /** The system's name, for messages. */
  readonly label: string;
  readonly image: string;
  /** The disk: ~/.spread/qemu/<image>.img. */
  readonly imagePath: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly bios?: "uefi";
  readonly direct?: DirectBoot;
  readonly bootTimeoutMs: number;
  readonly username: string;
  readonly password: string;
}

/** Where Spread keeps qemu images: $HOME/.spread/qemu. */
export function imageDir(home: string): string {
  return join(home, ".spread", "qemu");
}

/** `512M`, `2G`, `1048576K`, `1073741824B` in MiB (rounded down); undefined for anything else. */
export function sizeToMb(size: string): number | undefined {
  const m = /^(\d+)([BKMG])$/.exec(size.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const factor = { B: 1 / (1 << 20), K: 1 / 1024, M: 1, G: 1024 }[m[2] as "B" | "K" | "M" | "G"];
  return Math.floor(n * factor);
}

type Exists = (path: string) => boolean;

/**
 * The VM `system` of `backend` asks for. Throws E_PROJECT with the position
 * of every bad value. `home` is where ~/.spread lives; `exists` says whether
 * a file is there (for the default kernel and initrd next to the image).
 */
export function qemuSystemConfig(backend: Backend, system: System, home: string, exists: Exists): QemuSystemConfig {
  const problems: Problem[] = [];
  const at = (key: string): Problem["pos"] => system.where[key] ?? backend.where[key] ?? system.pos;
  const path = (key: string): string =>
    system.extra[key] !== undefined ? `backends.${backend.name}.systems.${system.name}.${key}` : `backends.${backend.name}.${key}`;
  const bad = (key: string, message: string): void => void problems.push({ pos: at(key), path: path(key), message });

  const value = (key: string): unknown => system.extra[key] ?? backend.extra[key];
  const text = (key: string): string | undefined => {
    const v = value(key);
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v === "string" || typeof v === "number") return String(v);
    bad(key, "must be a string");
    return undefined;
  };

  const dir = imageDir(home);
  const imagePath = join(dir, `${system.image}.img`);

  let memoryMb = DEFAULT_MEMORY_MB;
  const memory = text("memory");
  if (memory !== undefined) {
    const mb = sizeToMb(memory);
    if (mb === undefined || mb < 64) bad("memory", `${JSON.stringify(memory)} is not a memory size of at least 64M, like 512M or 2G`);
    else memoryMb = mb;
  }

  let cpus = 1;
  const cpusText = text("cpus");
  if (cpusText !== undefined) {
    const n = Number(cpusText);
    if (!Number.isInteger(n) || n < 1 || n > 255) bad("cpus", `${JSON.stringify(cpusText)} is not a number of CPUs from 1 to 255`);
    else cpus = n;
  }

  const biosText = text("bios");
  let bios: "uefi" | undefined;
  if (biosText === "uefi") bios = "uefi";
  else if (biosText !== undefined) bad("bios", `cannot set bios to ${JSON.stringify(biosText)}: only "uefi" or unset are supported`);

  let bootTimeoutMs = DEFAULT_BOOT_TIMEOUT_MS;
  const timeout = text("boot-timeout");
  if (timeout !== undefined) {
    // Like the lab backend's: a bare number counts seconds.
    const ms = /^\d+$/.test(timeout) ? Number(timeout) * 1000 : parseDuration(timeout);
    if (ms === undefined || ms <= 0) bad("boot-timeout", `${JSON.stringify(timeout)} is not a duration like 90s or 5m`);
    else bootTimeoutMs = ms;
  }

  const fromImageDir = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(imagePath), p));
  const kernelText = text("kernel");
  const initrdText = text("initrd");
  const append = text("append") ?? DEFAULT_APPEND;
  let direct: DirectBoot | undefined;
  if (kernelText !== undefined) {
    direct = { kernel: fromImageDir(kernelText), ...(initrdText !== undefined ? { initrd: fromImageDir(initrdText) } : {}), append };
  } else if (initrdText !== undefined) {
    bad("initrd", "an initrd needs a kernel: set kernel too");
  } else {
    const kernel = join(dir, `${system.image}.vmlinuz`);
    const initrd = join(dir, `${system.image}.initrd`);
    if (exists(kernel) && exists(initrd)) direct = { kernel, initrd, append };
  }
  // A backend-wide append is for its systems that boot directly; a system's own needs a kernel.
  if (direct === undefined && system.extra["append"] !== undefined) {
    bad(
      "append",
      "append is the command line of a kernel booted directly: set kernel, or put <image>.vmlinuz and <image>.initrd next to the image",
    );
  }

  if (problems.length > 0) throw new TroupeError("E_PROJECT", problems);
  return {
    label: `${backend.name}:${system.name}`,
    image: system.image,
    imagePath,
    memoryMb,
    cpus,
    ...(bios ? { bios } : {}),
    ...(direct ? { direct } : {}),
    bootTimeoutMs,
    username: system.username ?? DEFAULT_USERNAME,
    password: system.password ?? DEFAULT_PASSWORD,
  };
}
