import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settle } from "../../../src/scenario/logs.js";
import { addSecret, clearSecrets } from "../../../src/secrets/registry.js";

function fetched(text: string): { from: string; to: string } {
  const dir = mkdtempSync(join(tmpdir(), "troupe-logs-"));
  writeFileSync(join(dir, "in"), text);
  return { from: join(dir, "in"), to: join(dir, "out.log") };
}

test("settle moves the log, counts its lines and keeps the last n", async () => {
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`);
  const f = fetched(lines.join("\n") + "\n");
  assert.deepEqual(await settle(f.from, f.to, 3), { lines: 1000, tail: ["line 998", "line 999", "line 1000"] });
  assert.equal(existsSync(f.from), false);
  assert.equal(readFileSync(f.to, "utf8"), lines.join("\n") + "\n");
});

test("settle: fewer lines than asked, none asked, a last line without newline, an empty log", async () => {
  let f = fetched("a\nb");
  assert.deepEqual(await settle(f.from, f.to, 5), { lines: 2, tail: ["a", "b"] });
  f = fetched("a\nb\n");
  assert.deepEqual(await settle(f.from, f.to, 0), { lines: 2, tail: [] });
  f = fetched("");
  assert.deepEqual(await settle(f.from, f.to, 5), { lines: 0, tail: [] });
});

test("settle: a line longer than what is shown counts once and is shown cut", async () => {
  const long = "x".repeat(10_000);
  const f = fetched(`first\n${long}\nlast\n`);
  const r = await settle(f.from, f.to, 2);
  assert.equal(r.lines, 3);
  assert.ok(r.tail[0] === "x".repeat(4096) + " [...]", `shown: ${r.tail[0]!.length} characters`);
  assert.equal(r.tail[1], "last");
  assert.equal(readFileSync(f.to, "utf8"), `first\n${long}\nlast\n`);
});

test("settle masks known secrets in the copy and in what it shows", async () => {
  addSecret("hunter22-secret");
  try {
    const f = fetched("token hunter22-secret here\nbye\n");
    const r = await settle(f.from, f.to, 5);
    assert.equal(r.lines, 2);
    assert.doesNotMatch(r.tail.join("\n"), /hunter22/);
    assert.doesNotMatch(readFileSync(f.to, "utf8"), /hunter22/);
    assert.match(readFileSync(f.to, "utf8"), /^token .+ here\nbye\n$/);
  } finally {
    clearSecrets();
  }
});
