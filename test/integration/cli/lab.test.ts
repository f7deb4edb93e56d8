// The lab backend and `troupe exec` through the CLI, on real lab hosts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { labLeftovers, lines, privateTmp, REPO, troupe } from "./helpers.js";

test("the lab example runs its suite on 4 lab hosts with one command, and leaves nothing", () => {
  const tmp = privateTmp();
  const r = troupe(["run", "--project", join(REPO, "examples/lab")], { env: { TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Successful tasks: 4/);
  const hosts = new Set(lines(r.stdout).flatMap((l) => /^Allocated lab:debian-lab \((debian-lab-\d+)\)/.exec(l)?.[1] ?? []));
  assert.equal(hosts.size, 4);
  assert.match(r.stdout, /Rebooting on debian-lab-\d+/);
  assert.deepEqual(labLeftovers(r.pid, tmp), []);
});

test("lab up, exec with prefixes, collated output and the worst exit status, lab down", () => {
  const up = troupe(["lab", "up", "3", "--name", "cli"]);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /ssh -F \S+ cli-1/);
  try {
    const r = troupe(["exec", "lab:cli", "--", "hostname"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["cli-1: cli-1", "cli-2: cli-2", "cli-3: cli-3"]);

    const c = troupe(["exec", "lab:cli", "--collate", "--", "echo same"]);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /cli-\[1-3\] \(3\)\n-+\nsame\n/);

    const f = troupe(["exec", "lab:cli", "--", "case $(hostname) in cli-2) exit 7;; cli-3) exit 3;; esac"]);
    assert.equal(f.status, 7);
    assert.match(f.stderr, /2 of 3 host\(s\) failed: cli-\[2-3\]/);

    const s = troupe(["lab", "status"]);
    assert.match(s.stdout, /cli-2\s+10\.213\.\d+\.\d+\s+kept/);
  } finally {
    const down = troupe(["lab", "down", "--name", "cli"]);
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /Removed cli-1, cli-2, cli-3/);
  }
});

test("exec on a lab that is not up says how to start one", () => {
  const r = troupe(["exec", "lab:nosuch", "--", "true"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /troupe lab up N --name nosuch/);
});
