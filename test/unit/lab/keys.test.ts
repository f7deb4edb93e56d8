import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateEd25519, keyWithoutComment, publicKeyOf } from "../../../src/backends/lab/keys.js";

test("ssh-keygen reads the private key and derives the same public key", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-keys-"));
  try {
    for (let i = 0; i < 3; i++) {
      const k = generateEd25519(`host-${i}`);
      const file = join(dir, `id${i}`);
      writeFileSync(file, k.privateKey, { mode: 0o600 });
      const r = spawnSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(keyWithoutComment(r.stdout.trim()), keyWithoutComment(k.publicKey));
      assert.match(k.publicKey, new RegExp(`^ssh-ed25519 [A-Za-z0-9+/=]+ host-${i}$`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("two keys differ", () => {
  assert.notEqual(generateEd25519("a").publicKey, generateEd25519("a").publicKey);
});

test("publicKeyOf reads the public key back from our files and from ssh-keygen's", () => {
  const k = generateEd25519("c");
  assert.equal(publicKeyOf(k.privateKey), keyWithoutComment(k.publicKey));
  const dir = mkdtempSync(join(tmpdir(), "troupe-keys-"));
  try {
    const file = join(dir, "id");
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", file]);
    assert.equal(r.status, 0);
    assert.equal(publicKeyOf(readFileSync(file, "utf8")), keyWithoutComment(readFileSync(`${file}.pub`, "utf8").trim()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => publicKeyOf("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"));
});
