// The qemu output: the base tarball unpacked into a scratch tree, a kernel
// and what DHCP needs installed with apt inside it (a private mount
// namespace holds its /proc and /dev), the qemu configuration applied, and
// an ext4 root filesystem made from the tree with `mkfs.ext4 -d` (no
// partition table, no loop mount) next to the kernel and initramfs. The
// qemu backend boots them directly: root=/dev/vda rw console=ttyS0.
//
// Installed as ~/.spread/qemu/NAME.img, NAME.vmlinuz, NAME.initrd, with
// NAME.troupe.json saying which recipe they came from.

import { copyFile, chmod, lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { configure } from "./configure.js";
import { isolated, runCommand } from "./command.js";
import type { Recipe } from "./recipe.js";
import { cleanApt, TAR_KEEP, type StepContext, type StepRunner } from "./rootfs.js";
import { readJson, writeJsonAtomic } from "./store.js";

/** Where Spread's qemu backend (and troupe's) looks for images. */
export function spreadQemuDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env["HOME"] || homedir(), ".spread", "qemu");
}

/** The three files of a built qemu image, in the store or installed. */
export interface QemuFiles {
  readonly img: string;
  readonly kernel: string;
  readonly initrd: string;
}

export function storeQemuFiles(dir: string): QemuFiles {
  return { img: join(dir, "root.img"), kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd") };
}

export function installedQemuFiles(name: string, env: NodeJS.ProcessEnv = process.env): QemuFiles & { marker: string } {
  const d = spreadQemuDir(env);
  return {
    img: join(d, `${name}.img`),
    kernel: join(d, `${name}.vmlinuz`),
    initrd: join(d, `${name}.initrd`),
    marker: join(d, `${name}.troupe.json`),
  };
}

/** The chroot script: the kernel and networking packages, then apt's leftovers. */
function installScript(recipe: Recipe): string {
  const q = recipe.qemu;
  return [
    "set -eu",
    'root="$1"',
    'mount -t proc proc "$root/proc"',
    'mount -t sysfs sysfs "$root/sys"',
    'mount --rbind /dev "$root/dev"',
    'cp /etc/resolv.conf "$root/etc/resolv.conf"',
    // No service starts inside the build.
    `printf '#!/bin/sh\\nexit 101\\n' > "$root/usr/sbin/policy-rc.d"`,
    'chmod 755 "$root/usr/sbin/policy-rc.d"',
    'chroot "$root" apt-get update -q',
    // A scratch tree: dpkg need not sync every file it writes.
    `chroot "$root" apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io ${q.packages.join(" ")}`,
    'rm -f "$root/usr/sbin/policy-rc.d"',
  ].join("\n");
}

/** Build `dir/qemu` from `rootfsTar`, through `partial` (removed first, and on failure by the caller). */
export async function buildQemu(recipe: Recipe, rootfsTar: string, partial: string, ctx: StepContext, step: StepRunner): Promise<void> {
  await rm(partial, { recursive: true, force: true });
  const root = join(partial, "root");
  await mkdir(root, { recursive: true });
  const opts = (what: string) => ({ log: ctx.log, signal: ctx.signal, what });
  await step("unpack rootfs.tar for qemu", () => runCommand("tar", ["-C", root, ...TAR_KEEP, "-xpf", rootfsTar], opts("tar")));
  // Configured first: the initramfs settings must be there when the kernel's installation makes it.
  await step("configure for qemu", () => configure(root, recipe.qemu.configuration));
  await step(`install ${recipe.qemu.packages.join(", ")}`, async () => {
    await runCommand(...isolated(["sh", "-c", installScript(recipe), "sh", root]), opts("installing the kernel"));
    await cleanApt(root);
  });
  const files = storeQemuFiles(partial);
  await step("copy kernel and initramfs", async () => {
    const boot = await readdir(join(root, "boot"));
    const kernel = boot
      .filter((f) => f.startsWith("vmlinuz-"))
      .sort()
      .at(-1);
    const initrd = boot
      .filter((f) => f.startsWith("initrd.img-"))
      .sort()
      .at(-1);
    if (!kernel || !initrd) throw new Error(`no kernel or initramfs in /boot after installing ${recipe.qemu.packages.join(", ")}`);
    await copyFile(join(root, "boot", kernel), files.kernel);
    await copyFile(join(root, "boot", initrd), files.initrd);
    await chmod(files.kernel, 0o644);
    await chmod(files.initrd, 0o644);
  });
  await step(`mkfs.ext4 -d (${recipe.qemu.sizeMiB} MiB, sparse)`, () =>
    runCommand("mkfs.ext4", ["-q", "-F", "-L", "troupe-root", "-d", root, files.img, `${recipe.qemu.sizeMiB}M`], opts("mkfs.ext4")),
  );
  await rm(root, { recursive: true, force: true });
}

/** What NAME.troupe.json holds: the recipe and the image file as installed (a file changed since is not troupe's). */
interface QemuMarker {
  readonly key: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Whether ~/.spread/qemu holds this recipe's image as troupe installed it. */
export async function qemuInstalled(name: string, key: string | undefined, env?: NodeJS.ProcessEnv): Promise<boolean> {
  const f = installedQemuFiles(name, env);
  const m = await readJson<QemuMarker>(f.marker);
  if (!m || (key !== undefined && m.key !== key)) return false;
  const s = await stat(f.img).catch(() => undefined);
  if (!s || s.size !== m.size || s.mtimeMs !== m.mtimeMs) return false;
  return (await stat(f.kernel).catch(() => undefined)) !== undefined && (await stat(f.initrd).catch(() => undefined)) !== undefined;
}

/** An image at ~/.spread/qemu/NAME.img (or its kernel, initrd) that troupe did not install, if any. */
export async function foreignQemu(name: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (await qemuInstalled(name, undefined, env)) return undefined;
  const f = installedQemuFiles(name, env);
  for (const p of [f.img, f.kernel, f.initrd]) if (await lstat(p).catch(() => undefined)) return p;
  return undefined;
}

/** Copy the three files (sparse), each under a temporary name first. */
export async function copyQemuFiles(src: QemuFiles, dst: QemuFiles, ctx: StepContext): Promise<void> {
  for (const [a, b] of [
    [src.img, dst.img],
    [src.kernel, dst.kernel],
    [src.initrd, dst.initrd],
  ] as const) {
    const tmp = `${b}.${process.pid}.tmp`;
    try {
      await runCommand("cp", ["--sparse=always", "--reflink=auto", a, tmp], { log: ctx.log, signal: ctx.signal, what: `copying ${a}` });
      await rename(tmp, b);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

/** Copy the store's qemu files to ~/.spread/qemu (sparse), each under a temporary name first. */
export async function installQemu(name: string, key: string, from: string, ctx: StepContext, env?: NodeJS.ProcessEnv): Promise<QemuFiles> {
  const dst = installedQemuFiles(name, env);
  await mkdir(spreadQemuDir(env), { recursive: true });
  await copyQemuFiles(storeQemuFiles(from), dst, ctx);
  const s = await stat(dst.img);
  await writeJsonAtomic(dst.marker, { key, size: s.size, mtimeMs: s.mtimeMs } satisfies QemuMarker);
  return dst;
}

/** Remove ~/.spread/qemu/NAME.* when troupe installed them and they are unchanged; whether it did. */
export async function uninstallQemu(name: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  if (!(await qemuInstalled(name, undefined, env))) return false;
  const f = installedQemuFiles(name, env);
  for (const p of [f.img, f.kernel, f.initrd, f.marker]) await rm(p, { force: true });
  return true;
}
