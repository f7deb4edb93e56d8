// The small pieces of the lxd backend: container names, the count they come
// from, owner labels as LXD configuration, the address in a state, host keys
// out of the sshd set-up's output, and gc's choice of leftovers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentOwner } from "../../../src/gc/owner.js";
import { lxdLeftovers } from "../../../src/backends/lxd/gc.js";
import { configArgs, ownerConfig, ownerOf } from "../../../src/backends/lxd/labels.js";
import { containerName, nameTaken, nextCount } from "../../../src/backends/lxd/names.js";
import { LxcError } from "../../../src/backends/lxd/client.js";
import { parseHostKeys, sshdSetupScript } from "../../../src/backends/lxd/sshd.js";
import { addressOf } from "../../../src/backends/lxd/state.js";

test("container names: Spread's shape, troupe's prefix, what LXD accepts", () => {
  assert.equal(containerName(12, "ubuntu-22.04"), "troupe-12-ubuntu-22-04");
  assert.equal(containerName(3, "debian_12"), "troupe-3-debian-12");
  const long = containerName(1, "x".repeat(80));
  assert.equal(long.length, 63);
  assert.equal(containerName(1, `${"y".repeat(52)}-.z`), `troupe-1-${"y".repeat(52)}--`.slice(0, 63).replace(/-+$/, ""));
});

test("the count goes up by one per name, from a missing or bad file too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-lxd-count-"));
  const file = join(dir, "sub", "lxd-count");
  assert.deepEqual(await Promise.all([nextCount(file), nextCount(file), nextCount(file)]), [1, 2, 3]);
  assert.equal(readFileSync(file, "utf8"), "3");
  writeFileSync(file, "garbage");
  assert.equal(await nextCount(file), 1);
});

test("a name another process launches (made, or being made) is taken and tried again; any other failure is not", () => {
  const said = (stderr: string): LxcError => new LxcError(["launch", "img", "troupe-3-d"], { code: 1, stdout: "", stderr });
  assert.ok(
    nameTaken(said('Error: Failed creating instance record: Add instance info to the database: This "instances" entry already exists')),
  );
  // Seen in CI when two troupe processes counted the same while LXD was still creating the first one.
  assert.ok(nameTaken(said('Error: Failed creating instance record: Instance is busy running a "create" operation')));
  assert.ok(!nameTaken(said("Error: Failed instance creation: Failed creating instance from image: no space left on device")));
  assert.ok(!nameTaken(new Error("already exists")));
});

test("owner labels are user.troupe* keys, read back the same", () => {
  const owner = currentOwner("20261207-101010-abcd");
  const config = ownerConfig(owner);
  assert.equal(config["user.troupe"], "1");
  assert.equal(config["user.troupe-run"], "20261207-101010-abcd");
  assert.ok(Object.keys(config).every((k) => k.startsWith("user.troupe")));
  const back = ownerOf({ ...config, "image.os": "debian" });
  assert.equal(back?.run, "20261207-101010-abcd");
  assert.deepEqual(back?.process, owner.process);
  assert.equal(ownerOf({ "user.other": "1" }), undefined);
  assert.deepEqual(configArgs({ a: "1", b: "x y" }), ["-c", "a=1", "-c", "b=x y"]);
});

test("the address: the first IPv4 of an interface other than lo", () => {
  assert.equal(
    addressOf({
      network: {
        lo: { addresses: [{ family: "inet", address: "127.0.0.1" }] },
        eth0: {
          addresses: [
            { family: "inet6", address: "fe80::1" },
            { family: "inet", address: "10.214.0.9" },
          ],
        },
      },
    }),
    "10.214.0.9",
  );
  assert.equal(addressOf({ network: { eth0: { addresses: [{ family: "inet6", address: "fe80::1" }] } } }), undefined);
  assert.equal(addressOf({ network: null }), undefined);
});

test("host keys out of the set-up's output", () => {
  const out = "ecdsa-sha2-nistp256 AAAAE2Vj= root@box\nnoise\nssh-ed25519 AAAAC3Nz root@box\nssh-rsa AAAAB3 \n";
  assert.deepEqual(parseHostKeys(out), ["ecdsa-sha2-nistp256 AAAAE2Vj=", "ssh-ed25519 AAAAC3Nz", "ssh-rsa AAAAB3"]);
});

/** Run the set-up script in sh with / made `root`: what it writes, and its output. */
function runSetup(password: boolean, root: string, input: string): Promise<{ code: number | null; out: string }> {
  // The script's absolute paths, moved under `root` (the same text otherwise).
  const script = sshdSetupScript(password).replace(/\/etc\/ssh|\/root\/\.ssh/g, (p) => root + p);
  return new Promise((resolve) => {
    const c = spawn("sh", ["-c", script], { env: { PATH: `${root}/bin:/usr/bin:/bin` } });
    let out = "";
    c.stdout.on("data", (b: Buffer) => (out += b.toString()));
    c.stdin.end(input);
    c.on("close", (code) => resolve({ code, out }));
  });
}

test("the sshd set-up: root logins with a password allowed, the key added once, host keys printed", async () => {
  const root = mkdtempSync(join(tmpdir(), "troupe-lxd-sshd-"));
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(root, "etc/ssh/sshd_config.d"), { recursive: true });
  mkdirSync(join(root, "bin"));
  writeFileSync(join(root, "etc/ssh/sshd_config"), "#PermitRootLogin prohibit-password\n#PasswordAuthentication yes\nUsePAM yes\n");
  writeFileSync(join(root, "etc/ssh/ssh_host_ed25519_key"), "");
  writeFileSync(join(root, "etc/ssh/ssh_host_ed25519_key.pub"), "ssh-ed25519 AAAAHOST root@box\n");
  // chpasswd records what it was given.
  writeFileSync(join(root, "bin/chpasswd"), `#!/bin/sh\ncat > ${root}/chpasswd.in\n`, { mode: 0o755 });
  const first = await runSetup(true, root, "s3cret\nssh-ed25519 AAAAKEY troupe\n");
  assert.equal(first.code, 0);
  assert.deepEqual(parseHostKeys(first.out), ["ssh-ed25519 AAAAHOST"]);
  assert.equal(readFileSync(join(root, "etc/ssh/sshd_config"), "utf8"), "PermitRootLogin yes\nPasswordAuthentication yes\nUsePAM yes\n");
  assert.equal(
    readFileSync(join(root, "etc/ssh/sshd_config.d/00-troupe.conf"), "utf8"),
    "PermitRootLogin yes\nPasswordAuthentication yes\n",
  );
  assert.equal(readFileSync(join(root, "chpasswd.in"), "utf8"), "root:s3cret\n");
  // Taken back (-reuse): the key only, once.
  writeFileSync(join(root, "chpasswd.in"), "untouched");
  const again = await runSetup(false, root, "\nssh-ed25519 AAAAKEY troupe\n");
  assert.equal(again.code, 0);
  assert.equal(readFileSync(join(root, "chpasswd.in"), "utf8"), "untouched");
  assert.equal(readFileSync(join(root, "root/.ssh/authorized_keys"), "utf8"), "ssh-ed25519 AAAAKEY troupe\n");
});

test("gc: troupe's containers whose process is gone, not others, not live ones (but with --all), not kept ones", () => {
  const dead = ownerConfig({ user: "root", process: { pid: 999_999_999, start: 1 }, boot: currentOwner().boot, run: "r1" });
  const alive = ownerConfig(currentOwner("r2"));
  const dir = mkdtempSync(join(tmpdir(), "troupe-lxd-gc-"));
  const reuse = join(dir, ".troupe-reuse.yaml");
  writeFileSync(reuse, "backends:\n  lxd:\n    systems:\n      - debian-12:\n          name: kept\n          address: 10.214.0.5\n");
  const state = (address: string) => ({ status: "Running", network: { eth0: { addresses: [{ family: "inet", address }] } } });
  const found = lxdLeftovers([
    { name: "theirs", config: { "user.something": "1" } },
    { name: "dead", config: dead, state: state("10.214.0.4") },
    { name: "alive", config: alive },
    {
      name: "kept",
      config: { ...dead, "user.troupe-reuse": reuse, "user.troupe-backend": "lxd", "user.troupe-host": "kept" },
      state: state("10.214.0.5"),
    },
    { name: "unkept", config: { ...dead, "user.troupe-reuse": join(dir, "gone.yaml") } },
  ]);
  assert.deepEqual(
    found.map((l) => l.name),
    ["dead", "unkept"],
  );
  assert.match(found[0]!.reason, /the troupe process 999999999 that made it is gone/);
  assert.equal(found[0]!.run, "r1");
  assert.deepEqual(
    lxdLeftovers([{ name: "alive", config: alive }], true).map((l) => l.reason),
    ["--all: its troupe process is still running"],
  );
});
