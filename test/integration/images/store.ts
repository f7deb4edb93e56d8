// The images the container and VM tests run, from the store `.ci/images`
// fills (TROUPE_TEST_IMAGE_DIR, else CI's /var/cache/troupe-ci/images): one
// debootstrap serves docker, lxd and qemu tests alike.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { TROUPE } from "../cli/helpers.js";

export const TEST_IMAGE_DIR = process.env["TROUPE_TEST_IMAGE_DIR"] || "/var/cache/troupe-ci/images";

function troupeImage(args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [TROUPE, "image", ...args], {
    encoding: "utf8",
    env: { ...process.env, TROUPE_IMAGE_DIR: TEST_IMAGE_DIR, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) throw new Error(`troupe image ${args.join(" ")} failed (exit ${r.status}); CI makes the images with .ci/images`);
  return r.stdout;
}

/** debian-12's root filesystem tarball (TROUPE_TEST_ROOTFS overrides it), built if the store has none. */
export function testRootfs(): string {
  const given = process.env["TROUPE_TEST_ROOTFS"];
  if (given) return given;
  const find = (): string | undefined => {
    const list = JSON.parse(troupeImage(["list", "--json"])) as { name: string; dir: string }[];
    const dir = list.find((i) => i.name === "debian-12")?.dir;
    return dir && existsSync(join(dir, "rootfs.tar")) ? join(dir, "rootfs.tar") : undefined;
  };
  const found = find();
  if (found) return found;
  troupeImage(["build", "debian-12", "--for", "qemu"], { HOME: qemuTestHome() });
  const built = find();
  if (!built) throw new Error(`no debian-12 root filesystem in ${TEST_IMAGE_DIR} after building it`);
  return built;
}

function qemuTestHome(): string {
  const home = join(TEST_IMAGE_DIR, "..", "qemu-test-home");
  mkdirSync(home, { recursive: true });
  return home;
}

/** debian-12 for the qemu backend (a cache hit after .ci/images): the path of its .img, with .vmlinuz and .initrd beside it. */
export function qemuTestImage(): string {
  const home = qemuTestHome();
  troupeImage(["build", "debian-12", "--for", "qemu"], { HOME: home });
  return join(home, ".spread", "qemu", "debian-12.img");
}
