// `--failed` runs again what did not pass last time (pytest's --lf).

import { test } from "node:test";
import assert from "node:assert/strict";
import { project, troupe } from "./helpers.js";

function flakyProject(): string {
  return project({
    "troupe.yaml": "project: rerun\nsuites:\n  checks/:\n    summary: checks\n",
    "checks/flaky/task.yaml": "summary: flaky\nexecute: exit 1\n",
    "checks/good/task.yaml": "summary: good\nexecute: echo good\n",
    "checks/other/task.yaml": "summary: other\nexecute: echo other\n",
  });
}

test("--failed runs only what failed or was aborted last time, and says so when nothing did", () => {
  const dir = flakyProject();
  const none = troupe(["run", "--failed"], { cwd: dir });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--failed reruns the last run's failed jobs, but there is no earlier run/);

  const first = troupe(["run"], { cwd: dir });
  assert.equal(first.status, 1, first.stdout + first.stderr);
  assert.match(first.stdout, /Successful tasks: 2/);

  const again = troupe(["run", "-v", "--failed"], { cwd: dir });
  assert.equal(again.status, 1, again.stdout + again.stderr);
  assert.match(again.stdout, /Executing local:localhost:checks\/flaky/);
  assert.doesNotMatch(again.stdout, /checks\/good|checks\/other/);

  // A filter narrows what is rerun.
  const filtered = troupe(["run", "--failed", "checks/good"], { cwd: dir });
  assert.equal(filtered.status, 2, filtered.stdout + filtered.stderr);
  assert.match(filtered.stderr, /--failed: none of the 1 jobs that failed in run \S+ is selected now/);
});
