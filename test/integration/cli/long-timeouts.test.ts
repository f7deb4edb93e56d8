// Issue 12: timeouts past 2^31-1 ms (about 596 hours) fired after 1 ms,
// because Node's timers clamp them. A barrier with `--timeout 700h` must
// wait for the other host, not fail at once.

import assert from "node:assert/strict";
import { test } from "node:test";
import { project, troupe } from "./helpers.js";

const PROJECT = "project: long\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 2\nsuites:\n  s/:\n    summary: s\n";

// `late` arrives only once `early` is known to be waiting at the barrier:
// a call with another --count is refused (exit 64) while a round with
// arrivals is open, and counts for nothing. Until then it times out at once
// (--timeout 0, exit 124) and is withdrawn. Any other status (125: the job
// is poisoned, because early's wait failed) ends the loop.
const TASK = `summary: a barrier with a 700-hour timeout
hosts:
  early: {}
  late: {}
execute/early: |
  troupe-ctl barrier meet --timeout 700h
  echo "early passed the barrier"
execute/late: |
  while :; do
    status=0
    troupe-ctl barrier meet --count 99 --timeout 0 2>/dev/null || status=$?
    [ "$status" = 124 ] || break
  done
  [ "$status" = 64 ]
  echo "late sees early waiting"
  troupe-ctl barrier meet --timeout 700h
  echo "late passed the barrier"
`;

test("troupe-ctl barrier --timeout 700h in a multi-host job waits for the other host instead of failing at once", () => {
  const dir = project({ "troupe.yaml": PROJECT, "s/t/task.yaml": TASK });
  const r = troupe(["run", "-v"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /late sees early waiting/);
  assert.match(r.stdout, /early passed the barrier/);
  assert.match(r.stdout, /late passed the barrier/);
  assert.doesNotMatch(r.stdout, /timed out/);
});

test("kill-timeout: 720h lets a script run to its end instead of killing it after 1 ms", () => {
  const dir = project({
    "troupe.yaml": `project: long\nbackends:\n  local:\n    systems: [sys]\nkill-timeout: 720h\nwarn-timeout: 700h\nsuites:\n  s/:\n    summary: s\n`,
    // Long enough that a timer fired after 1 ms kills it mid-way, whatever the machine's speed.
    "s/t/task.yaml": `summary: outlives a 1 ms timer\nexecute: |\n  echo started\n  read x < /dev/null || true\n  i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done\n  echo done\n`,
  });
  const r = troupe(["run", "-v"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /done/);
  assert.doesNotMatch(r.stdout, /kill-timeout reached|running late/);
});
