// Reuse files as Spread's tools expect them, through `troupe spread`: a
// Spread project's kept hosts are written to `.spread-reuse.yaml` in Spread's
// format too (with the session's password, -pass or random, as Spread
// records it), through a symbolic link as Spread's own tests make one; a
// system's `username` does not stop -reuse; -discard removes a host with the
// type that made it whatever --backend-as says now; -resend alone is taken
// as Spread takes it.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { lines, project as newProject, troupe } from "./helpers.js";

const made: string[] = [];
const project = (files: Readonly<Record<string, string>>): string => {
  const d = newProject(files);
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** Lab host records (anyone's) at `address`. */
function labHostsAt(address: string): string[] {
  const dir = "/run/troupe-lab/hosts";
  const out: string[] = [];
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (!f.endsWith(".json")) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, f), "utf8")) as { name: string; address: string };
      if (r.address === address) out.push(r.name);
    } catch {
      /* removed while being read */
    }
  }
  return out;
}

type SpreadEntry = Record<string, { username?: string; password?: string; address?: string; data?: unknown }>;

/** What Spread's reader (spread/reuse.go) sees: backends.NAME.systems[i].SYSTEM. */
function spreadEntries(file: string, backend: string): SpreadEntry[] {
  const doc = parse(readFileSync(file, "utf8")) as { backends?: Record<string, { systems?: SpreadEntry[] }> } | null;
  return doc?.backends?.[backend]?.systems ?? [];
}

// A Spread project on a cloud backend troupe runs on lab hosts, with a
// username from the environment (a system login is evaluated as Spread does).
const CLOUD = [
  "project: sr-cloud",
  "path: /srv/sr-cloud",
  "environment:",
  "  WHO: root",
  "backends:",
  "  cloud:",
  "    type: google",
  "    systems:",
  "      - debian-12:",
  "          username: $WHO",
  "suites:",
  "  checks/:",
  "    summary: s",
  "",
].join("\n");

test("a kept host is in .spread-reuse.yaml as Spread writes it, username and -pass included; -reuse takes it back; -discard with another --backend-as removes it", () => {
  const dir = project({ "spread.yaml": CLOUD, "checks/a/task.yaml": "summary: a\nexecute: echo WORKS\n" });
  // Spread's tests keep the file elsewhere through a link: it stays a link.
  const elsewhere = mkdtempSync(join(tmpdir(), "sr-run-"));
  made.push(elsewhere);
  symlinkSync(join(elsewhere, "spread-reuse.yaml"), join(dir, ".spread-reuse.yaml"));
  let address = "";
  try {
    const first = troupe(["spread", "--backend-as", "cloud=lab", "-reuse", "-pass", "s3kr1t", "-v"], { cwd: dir });
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const file = join(dir, ".spread-reuse.yaml");
    assert.equal(lstatSync(file).isSymbolicLink(), true, "the link is written through, not replaced");
    const entries = spreadEntries(file, "cloud");
    assert.equal(entries.length, 1, readFileSync(file, "utf8"));
    const e = entries[0]!["debian-12"]!;
    assert.deepEqual(Object.keys(e).slice(0, 3), ["username", "password", "address"], "Spread's fields, in Spread's order");
    assert.equal(e.username, "root", "the evaluated username");
    assert.equal(e.password, "s3kr1t", "-pass is the recorded password");
    assert.ok(!("name" in e) && !("type" in e), "only Spread's fields");
    address = e.address!;
    assert.deepEqual(labHostsAt(address).length, 1);

    // A system's username does not stop reuse.
    const second = troupe(["spread", "--backend-as", "cloud=lab", "-reuse", "-v"], { cwd: dir });
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.ok(
      lines(second.stdout).some((l) => l.startsWith("Reusing cloud:debian-12 (") && l.endsWith(` at ${address}.`)),
      second.stdout,
    );
    assert.doesNotMatch(second.stdout, /Allocated cloud:debian-12/);

    // A run that maps the backend elsewhere leaves it alone (a local driver must not take a lab host for its own).
    const other = troupe(["spread", "--backend-as", "cloud=local", "-reuse", "-v"], { cwd: dir });
    assert.equal(other.status, 0, other.stdout + other.stderr);
    assert.match(other.stdout, /Not reusing cloud:debian-12 \(\S+\) at \S+: a lab host, and this run runs cloud as local/);
    assert.deepEqual(labHostsAt(address).length, 1);
    assert.equal(spreadEntries(file, "cloud").length, 2, "the lab host, and the local one that run kept");

    // Discarded by the lab backend that made it, though this run maps the backend to local.
    const d = troupe(["spread", "--backend-as", "cloud=local", "-discard"], { cwd: dir });
    assert.equal(d.status, 0, d.stdout + d.stderr);
    assert.equal(lines(d.stdout).filter((l) => l.startsWith("Discarding cloud:debian-12 (")).length, 2, d.stdout);
    assert.deepEqual(labHostsAt(address), [], "the lab host is gone");
    assert.deepEqual(spreadEntries(file, "cloud"), []);
    address = "";
  } finally {
    if (address) troupe(["spread", "--backend-as", "cloud=lab", "-discard"], { cwd: dir });
  }
});

test("without -pass the recorded password is a random one, the same for every host of the run, as Spread's", () => {
  const dir = project({
    "spread.yaml": CLOUD.replace("          username: $WHO\n", "          workers: 2\n"),
    "checks/a/task.yaml": "summary: a\nexecute: echo a\n",
    "checks/b/task.yaml": "summary: b\nexecute: echo b\n",
  });
  try {
    const r = troupe(["spread", "--backend-as", "cloud=lab", "-reuse"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const entries = spreadEntries(join(dir, ".spread-reuse.yaml"), "cloud").map((x) => x["debian-12"]!);
    assert.equal(entries.length, 2);
    assert.match(entries[0]!.password!, /^[0-9a-f]{16}$/);
    assert.equal(entries[1]!.password, entries[0]!.password);
    assert.equal(entries[0]!.username, undefined, "no username: Spread leaves the field out");
  } finally {
    const d = troupe(["spread", "--backend-as", "cloud=lab", "-discard"], { cwd: dir });
    assert.equal(d.status, 0, d.stdout + d.stderr);
  }
  assert.equal(readFileSync(join(dir, ".spread-reuse.yaml"), "utf8"), "", "no hosts: an empty file, as Spread leaves it");
});

test("-resend without -reuse is accepted as Spread accepts it (nothing is reused, so nothing is resent); a run without -reuse leaves no reuse file", () => {
  const dir = project({
    "spread.yaml":
      "project: sr-local\npath: /srv/sr-local\nbackends:\n  local:\n    systems:\n      - ubuntu-24.04\nsuites:\n  checks/:\n    summary: s\n",
    "checks/a/task.yaml": "summary: a\nexecute: echo WORKS\n",
  });
  const r = troupe(["spread", "-vv", "-resend"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^WORKS$/m);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes("-reuse")),
    [],
  );
});
