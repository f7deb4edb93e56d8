// examples/machines, as its comments run it: one suite on a Docker
// container, an LXD container and a QEMU virtual machine made from one
// Debian image, and a multi-host job on each kind of container.

import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../cli/helpers.js";
import { qemuTestImage } from "../images/store.js";
import { troupeToEnd } from "../qemu/fixture.js";

test(
  "examples/machines: the same suite on docker, lxd and qemu, a multi-host job on the containers",
  { timeout: 30 * 60_000 },
  async () => {
    const img = qemuTestImage();
    const dir = mkdtempSync(join(tmpdir(), "troupe-machines-"));
    const state = mkdtempSync(join(tmpdir(), "troupe-machines-qemu-state-"));
    try {
      cpSync(join(REPO, "examples", "machines"), dir, { recursive: true });
      // The qemu backend finds debian-12.img in ~/.spread/qemu of the HOME the image was built for.
      const home = join(img, "..", "..", "..");
      const r = await troupeToEnd(["spread", "-v"], { cwd: dir, env: { HOME: home, TROUPE_QEMU_STATE_DIR: state } });
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /Successful tasks: 5\n/);
      for (const kind of ["docker", "lxd", "qemu"]) {
        assert.match(r.out, new RegExp(`^${kind}:debian-12 on \\S+: ${kind === "lxd" ? "lxc" : kind}$`, "m"));
      }
      for (const backend of ["docker", "lxd"]) {
        assert.match(r.out, new RegExp(`Executing ${backend}:debian-12:checks/pair`));
      }
      assert.match(r.out, /^node-1 sees node-2 as \S+$/m);
      assert.match(r.out, /WARNING: qemu: no usable KVM|qemu: using KVM/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }
  },
);
