// Issue 12: a 400-byte troupe.yaml of nested aliases took 42 s and 3.2 GB in
// `troupe list`. It is refused at once, with the alias's position.

import assert from "node:assert/strict";
import { test } from "node:test";
import { project, troupe } from "./helpers.js";

const BOMB = `project: bomb
a0: &a0 [x,x,x,x,x,x,x,x,x]
a1: &a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0]
a2: &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1]
a3: &a3 [*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2]
a4: &a4 [*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3]
a5: &a5 [*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4]
a6: &a6 [*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5]
a7: &a7 [*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6]
`;

test("troupe list refuses an alias bomb in troupe.yaml: exit 2, the alias's position, what to do", () => {
  const r = troupe(["list"], { cwd: project({ "troupe.yaml": BOMB }) });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr.trim(),
    "troupe.yaml:7:10: a5[0]: alias *a4 expands the file past 100000 values (an alias bomb?); write the values out or use fewer aliases of aliases",
  );
});

test("troupe list refuses an alias bomb in a task.yaml the same way", () => {
  const r = troupe(["list"], {
    cwd: project({
      "troupe.yaml": "project: p\nsuites:\n  s/:\n    summary: s\n",
      "s/t/task.yaml": BOMB.replace("project: bomb", "summary: bomb"),
    }),
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^s\/t\/task\.yaml:7:10: a5\[0\]: alias \*a4 expands the file past 100000 values/);
});
