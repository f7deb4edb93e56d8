import { test } from "node:test";
import assert from "node:assert/strict";
import type { Backend } from "../../../src/model/project.js";
import { cloudSettings, DEFAULT_LIFETIME_MS, lifetimeMinutes } from "../../../src/backends/cloud/settings.js";
import { bootScript } from "../../../src/backends/cloud/boot-script.js";
import { isTroupeError } from "../../../src/util/errors.js";

const POS = { file: "troupe.yaml", line: 3, col: 5 };

function backend(extra: Record<string, unknown>, haltTimeout?: number): Backend {
  return {
    name: "cloud",
    type: "ec2",
    pos: POS,
    where: { "max-hosts": { file: "troupe.yaml", line: 7, col: 5 } },
    environment: [],
    systems: [],
    extra,
    ...(haltTimeout !== undefined ? { haltTimeout } : {}),
  };
}

test("a machine's lifetime: halt-timeout, capped by max-hours and by --max-hours; 4 h when nothing says", () => {
  assert.equal(cloudSettings(backend({})).lifetimeMs, DEFAULT_LIFETIME_MS);
  assert.equal(cloudSettings(backend({}, 90 * 60_000)).lifetimeMs, 90 * 60_000);
  assert.equal(cloudSettings(backend({ "max-hours": 1 }, 90 * 60_000)).lifetimeMs, 60 * 60_000);
  assert.equal(cloudSettings(backend({ "max-hours": 3 }, 90 * 60_000), { maxHours: 0.5 }).lifetimeMs, 30 * 60_000);
  assert.equal(lifetimeMinutes(cloudSettings(backend({}, 61_000))), 2);
});

test("max-hosts: the lower of the project's and the command line's", () => {
  assert.equal(cloudSettings(backend({ "max-hosts": 50 })).maxHosts, 50);
  assert.equal(cloudSettings(backend({ "max-hosts": 50 }), { maxHosts: 20 }).maxHosts, 20);
  assert.equal(cloudSettings(backend({ "max-hosts": 5 }), { maxHosts: 20 }).maxHosts, 5);
  assert.equal(cloudSettings(backend({})).maxHosts, undefined);
});

test("bad values are errors at their position", () => {
  try {
    cloudSettings(backend({ "max-hosts": 2.5 }));
    assert.fail("no error");
  } catch (err) {
    assert.ok(isTroupeError(err) && err.code === "E_PROJECT");
    assert.equal(err.message, "troupe.yaml:7:5: backends.cloud.max-hosts: must be a positive whole number, not 2.5");
  }
  assert.throws(() => cloudSettings(backend({ partial: "half" })), /backends\.cloud\.partial: is use .* or fail .*, not "half"/);
  assert.equal(cloudSettings(backend({})).partial, "fail");
});

test("the boot script gives root the key, quoted, and powers off at the halt time", () => {
  const s = bootScript({ publicKey: "ssh-ed25519 AAAA it's-me", lifetimeMinutes: 90, user: "ubuntu" });
  assert.match(s, /^#!\/bin\/sh\n/);
  assert.match(s, /nohup shutdown -h \+90 "troupe: halt time"/);
  assert.match(s, /printf '%s\\n' 'ssh-ed25519 AAAA it'\\''s-me' > \/root\/\.ssh\/authorized_keys/);
  assert.match(s, /getent passwd 'ubuntu'/);
});
