// The guest image of the qemu tests: `troupe image build debian-12` from the
// test store (images/store.ts, filled by .ci/images), and a HOME of its own for each test process whose ~/.spread/qemu names it
// debian-12, as a Spread project expects.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { troupeAsync, type RunOptions } from "../cli/helpers.js";
import { qemuTestImage } from "../images/store.js";

/** The guest image (troupe image build's debian-12, from the test store): the path of its .img. */
export function guestImage(): string {
  return qemuTestImage();
}

/** A HOME whose ~/.spread/qemu holds `names` as links to the guest image (with its kernel and initrd), or nothing. */
export function qemuHome(img?: string, names: readonly string[] = ["debian-12"]): string {
  const home = mkdtempSync(join(tmpdir(), "troupe-qemu-home-"));
  const dir = join(home, ".spread", "qemu");
  mkdirSync(dir, { recursive: true });
  if (img) {
    const base = img.slice(0, -".img".length);
    for (const name of names) for (const ext of ["img", "vmlinuz", "initrd"]) symlinkSync(`${base}.${ext}`, join(dir, `${name}.${ext}`));
  }
  return home;
}

/** QEMU processes whose `-name` starts with `troupe:<prefix>`. */
export function qemuProcesses(prefix: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (args.some((a) => a.startsWith(`troupe:${prefix}`))) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** `troupe ARGS` to its end, however long VMs take to boot (the sync helper gives up after 2 minutes). */
export async function troupeToEnd(args: readonly string[], options: RunOptions): Promise<{ status: number | null; out: string }> {
  const child = troupeAsync(args, options);
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const status = await new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { status, out };
}
