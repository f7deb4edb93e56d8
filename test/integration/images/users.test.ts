// `troupe image build --user` for real: the store's debian-12 qemu files
// (.ci/images; TROUPE_TEST_IMAGE_DIR names another store) copied into an
// entry of their own with a login user written in by debugfs, read back
// here with debugfs and checked by e2fsck. Booting it and logging in as that
// user is Spread's tests/qemu (test/spread-suite/run.ts).

import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TROUPE } from "../cli/helpers.js";
import { cacheKey } from "../../../src/images/cache-key.js";
import { recipeFor } from "../../../src/images/recipe.js";
import { TEST_IMAGE_DIR, qemuTestImage } from "./store.js";

const home = mkdtempSync(join(tmpdir(), "troupe-users-home-"));
const name = `tt-users-${process.pid}`;

function image(args: readonly string[], store = TEST_IMAGE_DIR): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [TROUPE, "image", ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", HOME: home, TROUPE_IMAGE_DIR: store },
  });
}

/** A file of the ext4 image, read with debugfs. */
function cat(img: string, path: string): string {
  const r = spawnSync("debugfs", ["-R", `cat ${path}`, img], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("troupe image build --user", { concurrency: false }, () => {
  after(() => {
    // The outputs called NAME and their records in the store (docker and LXD are skipped when not running).
    image(["rm", name]);
    rmSync(home, { recursive: true, force: true });
  });

  it("adds a login user with a password, a home and sudo to a qemu image, in an entry of its own", () => {
    qemuTestImage(); // the debian-12 entry it starts from
    const r = image(["build", "debian-12", "--for", "qemu", "--as", name, "--user", "ubuntu:ubuntu"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const img = join(home, ".spread", "qemu", `${name}.img`);
    for (const f of [img, join(home, ".spread", "qemu", `${name}.vmlinuz`), join(home, ".spread", "qemu", `${name}.initrd`)]) {
      assert.ok(existsSync(f), `${f} is installed`);
    }
    assert.match(cat(img, "/etc/passwd"), /^ubuntu:x:1000:1000::\/home\/ubuntu:\/bin\/bash$/m);
    assert.match(cat(img, "/etc/shadow"), /^ubuntu:\$6\$[^:]+:\d+:0:99999:7:::$/m);
    assert.match(cat(img, "/etc/group"), /^sudo:x:27:ubuntu$/m);
    assert.match(cat(img, "/etc/sudoers.d/troupe-users"), /^ubuntu ALL=\(ALL\) NOPASSWD:ALL$/m);
    const fsck = spawnSync("e2fsck", ["-f", "-n", img], { encoding: "utf8" });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const key = cacheKey(recipeFor("debian-12", { users: [{ name: "ubuntu", password: "ubuntu" }] }));
    assert.ok(existsSync(join(TEST_IMAGE_DIR, key, "qemu", "root.img")), "the image with the user is its own store entry");
    assert.equal(cat(join(TEST_IMAGE_DIR, cacheKey(recipeFor("debian-12")), "qemu", "root.img"), "/etc/passwd").includes("ubuntu:"), false);
  });

  it("refuses --user for an output other than qemu, saying what to do (exit 2)", () => {
    const r = image(["build", "debian-12", "--for", "docker", "--user", "ubuntu"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--user adds login users to the qemu output only: build with --for qemu/);
  });

  it("says to build the image without users first when the store lacks it, and leaves no entry (exit 3)", () => {
    const empty = mkdtempSync(join(tmpdir(), "troupe-users-store-"));
    try {
      const r = image(["build", "debian-12", "--for", "qemu", "--as", name, "--user", "ubuntu:ubuntu"], empty);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /--user starts from debian-12's qemu image .* build it first with `troupe image build debian-12 --for qemu`/);
      assert.deepEqual(
        readdirSync(empty).filter((f) => /^[0-9a-f]{16}$/.test(f)),
        [],
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("refuses root and a bad name (exit 2)", () => {
    assert.match(image(["build", "debian-12", "--for", "qemu", "--user", "root:x"]).stderr, /root is in every image already/);
    assert.equal(image(["build", "debian-12", "--for", "qemu", "--user", "Bad Name"]).status, 2);
  });
});
