// Under GitHub Actions: `::error` annotations that point at the task file or
// the hook's key in the project file, escaped as GitHub reads them, and a
// step summary (failures first) appended to $GITHUB_STEP_SUMMARY.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { project, troupe } from "./helpers.js";

const FILES = {
  "troupe.yaml": [
    "project: gh",
    "backends:",
    "  local:",
    "    systems: [localhost]",
    "suites:",
    "  checks/:",
    "    summary: checks",
    "  broken/:",
    "    summary: a suite whose prepare fails",
    "    prepare: |",
    '      echo "100% broken, really: yes"',
    "      exit 2",
    "",
  ].join("\n"),
  "checks/bad/task.yaml": 'summary: bad\nexecute: |\n  echo "a: b, c"\n  exit 1\n',
  "checks/good/task.yaml": "summary: good\nexecute: |\n  true\n",
  "broken/x/task.yaml": "summary: x\nexecute: |\n  true\n",
};

test("GITHUB_ACTIONS=true: annotations at task.yaml and troupe.yaml positions, and a step summary, failures first", () => {
  const dir = project(FILES);
  const summary = join(dir, "summary.md");
  writeFileSync(summary, "earlier step\n");
  const r = troupe(["run"], { cwd: dir, env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const commands = r.stdout.split("\n").filter((l) => l.startsWith("::"));
  assert.deepEqual(commands, [
    "::error file=checks/bad/task.yaml,line=2,col=1,title=troupe%3A local%3Alocalhost%3Achecks/bad failed::" +
      "execute failed: exit status 1%0A+ echo 'a: b, c'%0Aa: b, c%0A+ exit 1",
    "::error file=troupe.yaml,line=10,col=5,title=troupe%3A suite prepare failed (local%3Alocalhost%3Abroken/)::" +
      "suite prepare failed on localhost-1: exit status 2%0A+ echo '100%25 broken, really: yes'%0A100%25 broken, really: yes%0A+ exit 2",
    "::warning file=broken/x/task.yaml,line=2,col=1,title=troupe%3A local%3Alocalhost%3Abroken/x aborted::suite prepare failed on localhost-1",
  ]);
  const md = readFileSync(summary, "utf8");
  assert.ok(md.startsWith("earlier step\n### troupe run "), "appended, not overwritten");
  const rows = md.split("\n").filter((l) => /^\| (❌|⚠️|✅) /.test(l));
  assert.deepEqual(
    rows.map((l) => l.split(" | ")[1]),
    ["`local:localhost:checks/bad`", "`local:localhost:broken/x`", "`local:localhost:checks/good`"],
  );
  assert.match(md, /\| suite prepare \| `local:localhost:broken\/` \| localhost-1 \| exit status 2 \|/);
});

test("without GITHUB_ACTIONS, no workflow command is printed", () => {
  const dir = project(FILES);
  const r = troupe(["run"], { cwd: dir, env: { GITHUB_ACTIONS: "" } });
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stdout + r.stderr, /^::/m);
});
