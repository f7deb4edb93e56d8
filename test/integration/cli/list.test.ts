// `troupe list` and `troupe spread -list` as a user runs them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { project, REPO, troupe } from "./helpers.js";

const spreadProject = {
  "spread.yaml": `project: hello
path: /remote/hello
environment:
  GREETING: Hello
backends:
  lxd:
    systems:
      - ubuntu-16.04
      - ubuntu-18.04:
          workers: 2
  qemu:
    systems: [debian-12]
    manual: true
suites:
  mysuite/:
    summary: greetings
  other/:
    summary: other things
    systems: [-ubuntu-18.04]
`,
  "mysuite/task-one/task.yaml": `summary: one
environment:
  SUBJECT/foo: sanity
  GREETING/bar: Goodbye
  SUBJECT/bar: lunacy
  SUBJECT/baz: world
execute: echo "$GREETING $SUBJECT!"
`,
  "mysuite/task-two/task.yaml": "summary: two\nexecute: true\n",
  "other/thing/task.yaml": "summary: thing\nexecute: true\n",
};

test("the example project lists its jobs, variants included", () => {
  const r = troupe(["list", "--project", join(REPO, "examples/basics")]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "local:localhost:checks/greet:de",
    "local:localhost:checks/greet:en",
    "local:localhost:checks/greet:fr",
    "local:localhost:checks/report",
    "local:localhost:checks/service",
  ]);
});

test("a Spread project lists as Spread would: sorted, manual backend left out, suite systems applied", () => {
  const dir = project(spreadProject);
  const r = troupe(["list"], { cwd: join(dir, "mysuite") }); // found from a subdirectory
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "lxd:ubuntu-16.04:mysuite/task-one:bar",
    "lxd:ubuntu-16.04:mysuite/task-one:baz",
    "lxd:ubuntu-16.04:mysuite/task-one:foo",
    "lxd:ubuntu-16.04:mysuite/task-two",
    "lxd:ubuntu-16.04:other/thing",
    "lxd:ubuntu-18.04:mysuite/task-one:bar",
    "lxd:ubuntu-18.04:mysuite/task-one:baz",
    "lxd:ubuntu-18.04:mysuite/task-one:foo",
    "lxd:ubuntu-18.04:mysuite/task-two",
  ]);
});

test("filters select as Spread's do, and spread -list prints the same", () => {
  const dir = project(spreadProject);
  const cases: [string[], string[]][] = [
    [
      ["/task-one"],
      [
        "lxd:ubuntu-16.04:mysuite/task-one:bar",
        "lxd:ubuntu-16.04:mysuite/task-one:baz",
        "lxd:ubuntu-16.04:mysuite/task-one:foo",
        "lxd:ubuntu-18.04:mysuite/task-one:bar",
        "lxd:ubuntu-18.04:mysuite/task-one:baz",
        "lxd:ubuntu-18.04:mysuite/task-one:foo",
      ],
    ],
    [["ubuntu-18.04:mysu...two"], ["lxd:ubuntu-18.04:mysuite/task-two"]],
    [["lxd:ubuntu-16.04:foo"], ["lxd:ubuntu-16.04:mysuite/task-one:foo"]],
    [["other/"], ["lxd:ubuntu-16.04:other/thing"]],
    [
      ["qemu"],
      [
        "qemu:debian-12:mysuite/task-one:bar",
        "qemu:debian-12:mysuite/task-one:baz",
        "qemu:debian-12:mysuite/task-one:foo",
        "qemu:debian-12:mysuite/task-two",
        "qemu:debian-12:other/thing",
      ],
    ],
  ];
  for (const [filters, expected] of cases) {
    const r = troupe(["list", ...filters], { cwd: dir });
    assert.equal(r.status, 0, `${filters.join(" ")}: ${r.stderr}`);
    assert.deepEqual(r.stdout.trim().split("\n"), expected, filters.join(" "));
    const s = troupe(["spread", "-list", ...filters], { cwd: dir });
    assert.equal(s.stdout, r.stdout, `spread -list ${filters.join(" ")}`);
  }
});

test("list --json shows each job's ordered environment, scripts and timeouts", () => {
  const dir = project(spreadProject);
  const r = troupe(["list", "--json", "lxd:ubuntu-16.04:mysuite/task-one:bar"], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const jobs = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.equal(jobs.length, 1);
  const job = jobs[0]!;
  assert.equal(job["name"], "lxd:ubuntu-16.04:mysuite/task-one:bar");
  assert.equal(job["variant"], "bar");
  const env = Object.fromEntries((job["environment"] as { key: string; value: string }[]).map((e) => [e.key, e.value]));
  assert.equal(env["GREETING"], "Goodbye");
  assert.equal(env["SUBJECT"], "lunacy");
  assert.ok(JSON.stringify(job["scripts"]).includes('echo \\"$GREETING $SUBJECT!\\"'));
  assert.ok(job["timeouts"]);
});

test("nothing matching a filter is an error with status 2", () => {
  const dir = project(spreadProject);
  const r = troupe(["list", "nosuchthing"], { cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nothing matches/);
});

test("no project file is a clear error", () => {
  const dir = project({ README: "nothing here" });
  const r = troupe(["list"], { cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /troupe\.yaml/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/); // no stack trace
});
