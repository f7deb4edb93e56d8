import { test } from "node:test";
import assert from "node:assert/strict";
import { MASK, RedactingStream, Redactor } from "../../../src/secrets/redactor.js";
import { isSecretName, knownParts, loginSecrets } from "../../../src/secrets/marking.js";
import { LineSplitter } from "../../../src/script/lines.js";

test("every occurrence of every secret is masked; overlapping and touching ones as one", () => {
  const r = new Redactor(["hunter22", "s3cret", "cretin", "abcdefg", "bc", "ef"]);
  assert.equal(r.redact("pw=hunter22 and s3cret!"), `pw=${MASK} and ${MASK}!`);
  assert.equal(r.redact("s3cretin"), MASK); // s3cret and cretin overlap
  assert.equal(r.redact("hunter22hunter22"), MASK);
  // A long secret that starts before shorter ones it holds: not one character of it shows.
  assert.equal(r.redact("xabcdefgx"), `x${MASK}x`);
  assert.equal(r.redact("nothing here"), "nothing here");
  assert.equal(new Redactor([]).redact("hunter22"), "hunter22");
});

test("a stream finds secrets split across chunks, at every split point, and holds back no more than it must", () => {
  const secrets = ["hunter22", "abcdefg", "bc", "ef", "ééé-token"];
  const r = new Redactor(secrets);
  const text = "a hunter22, xabcdefgx, ééé-token and bc and hunter2 end";
  const whole = r.redact(text);
  assert.equal(whole, `a ${MASK}, x${MASK}x, ${MASK} and ${MASK} and hunter2 end`);
  for (let i = 0; i <= text.length; i++) {
    for (let j = i; j <= text.length; j += 7) {
      const s = new RedactingStream(r);
      const out = s.push(text.slice(0, i)) + s.push(text.slice(i, j)) + s.push(text.slice(j)) + s.end();
      assert.equal(out, whole, `split at ${i}, ${j}`);
    }
  }
  // One character at a time.
  const s = new RedactingStream(r);
  let out = "";
  for (const c of text) out += s.push(c);
  assert.equal(out + s.end(), whole);
  // Text that cannot begin a secret is not held back.
  assert.equal(new RedactingStream(r).push("plain line\n"), "plain line\n");
});

test("time is linear in the text, whatever the number of secrets and the length of lines", () => {
  const secrets = Array.from({ length: 5000 }, (_, i) => `secret-${i}-${"x".repeat(i % 50)}`);
  const r = new Redactor(secrets);
  const line = "secret-".repeat(200_000) + "secret-4999-" + "x".repeat(4999 % 50);
  const s = new RedactingStream(r);
  let out = "";
  for (let i = 0; i < line.length; i += 4096) out += s.push(line.slice(i, i + 4096));
  out += s.end();
  assert.ok(out.endsWith(MASK));
  assert.equal(out.length, line.length - (12 + (4999 % 50)) + MASK.length);
});

test("a line splitter with a redacting filter gives lines with the secret masked, even split across pieces", () => {
  const r = new Redactor(["topsecret"]);
  const got: string[] = [];
  const splitter = new LineSplitter((text) => got.push(text), { filter: new RedactingStream(r) });
  for (const piece of ["one tops", "ecret\ntwo top", "secret", " three\nlast topsecre", "t"]) splitter.push(Buffer.from(piece));
  splitter.end();
  assert.deepEqual(got, [`one ${MASK}`, `two ${MASK} three`, `last ${MASK}`]);
});

test("names that say they hold a secret, and names that only point at one", () => {
  for (const n of [
    "GITHUB_TOKEN",
    "DB_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "SPREAD_PASSWORD",
    "api_key",
    "STRIPE_API_KEY",
    "PASSWD",
    "MY_CREDENTIALS",
    "SSH_PRIVATE_KEY",
    "OAUTH_CLIENT_SECRET",
  ])
    assert.equal(isSecretName(n), true, n);
  for (const n of [
    "KEYBOARD",
    "SSH_KEY_PATH",
    "TOKEN_FILE",
    "AWS_ACCESS_KEY_ID",
    "KEY",
    "SORT_KEY",
    "MONKEY",
    "PASSWORD_FILE",
    "TOKENIZER",
    "HOME",
    "SECRET_NAME",
  ])
    assert.equal(isSecretName(n), false, n);
});

test("the known parts of an environment value: quotes removed, what the host's shell computes left out", () => {
  assert.deepEqual(knownParts('"hunter22"'), ["hunter22"]);
  assert.deepEqual(knownParts("'it is'"), ["it is"]);
  assert.deepEqual(knownParts("plain"), ["plain"]);
  assert.deepEqual(knownParts('"pre-$OTHER-post"'), ["pre-", "-post"]);
  assert.deepEqual(knownParts('"$(cat /etc/token)"'), []);
  assert.deepEqual(knownParts('"${X}"'), []);
});

test("a system's password is secret when it comes from elsewhere, not when the project file spells it out", () => {
  const project = {
    backends: [
      {
        name: "google",
        systems: [
          { name: "ubuntu-20.04-64", password: "ubuntu" },
          { name: "debian-12-64", password: "$ROOT_PASS" },
          { name: "fedora-40-64" },
        ],
      },
    ],
  };
  const evaluated = {
    "google:ubuntu-20.04-64": { password: "ubuntu" },
    "google:debian-12-64": { password: "s3cr3t-from-env" },
    "google:fedora-40-64": {},
  };
  assert.deepEqual(loginSecrets(project, evaluated), ["s3cr3t-from-env"]);
});
