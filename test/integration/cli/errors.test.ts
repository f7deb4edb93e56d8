// Mistakes in project files: each is reported at file:line:col, with what to
// do, exit status 2, and no stack trace.

import { test } from "node:test";
import assert from "node:assert/strict";
import { project, troupe } from "./helpers.js";

const task = { "tests/a/task.yaml": "summary: a\nexecute: true\n" };
const head = "project: p\npath: /remote/p\nbackends:\n  lxd:\n    systems: [ubuntu-16.04]\n";

const cases: { name: string; files: Record<string, string>; expect: RegExp }[] = [
  { name: "bad YAML", files: { ...task, "spread.yaml": head + "suites:\n  tests/: {summary: [x\n" }, expect: /^spread\.yaml:\d+:\d+: / },
  {
    name: "unknown key with a suggestion",
    files: { ...task, "troupe.yaml": "project: p\nsuites:\n  tests/:\n    summary: s\n    preapre: echo\n" },
    expect: /^troupe\.yaml:5:5: .*preapre.*did you mean 'prepare'/m,
  },
  {
    name: "wrong type",
    files: {
      ...task,
      "troupe.yaml":
        "project: p\nbackends:\n  local:\n    systems:\n      - localhost:\n          workers: many\nsuites:\n  tests/:\n    summary: s\n",
    },
    expect: /^troupe\.yaml:6:20: .*workers/m,
  },
  {
    name: "bad duration",
    files: { ...task, "troupe.yaml": "project: p\nkill-timeout: 5 minutes\nsuites:\n  tests/:\n    summary: s\n" },
    expect: /^troupe\.yaml:2:15: .*kill-timeout.*(10s|1m30s|1\.5h)/m,
  },
  {
    name: "missing suite directory",
    files: { ...task, "troupe.yaml": "project: p\nsuites:\n  tests/:\n    summary: s\n  nothere/:\n    summary: s\n" },
    expect: /^troupe\.yaml:5:3: .*nothere/m,
  },
  {
    name: "suite name without its slash",
    files: { ...task, "troupe.yaml": "project: p\nsuites:\n  tests:\n    summary: s\n" },
    expect: /^troupe\.yaml:3:3: .*\//m,
  },
  {
    name: "variants in plain and delta form",
    files: { ...task, "troupe.yaml": "project: p\nsuites:\n  tests/:\n    summary: s\n    variants: [a, +b]\n" },
    expect: /^troupe\.yaml:5:\d+: .*variants/m,
  },
  {
    name: "duplicate environment key",
    files: { ...task, "troupe.yaml": "project: p\nenvironment:\n  A: 1\n  A: 2\nsuites:\n  tests/:\n    summary: s\n" },
    expect: /^troupe\.yaml:4:3: /m,
  },
  {
    name: "invalid variable name",
    files: { ...task, "troupe.yaml": "project: p\nenvironment:\n  BAD-NAME: 1\nsuites:\n  tests/:\n    summary: s\n" },
    expect: /^troupe\.yaml:3:3: .*BAD-NAME/m,
  },
  {
    name: "spread.yaml without path",
    files: { ...task, "spread.yaml": "project: p\nbackends:\n  lxd:\n    systems: [ubuntu-16.04]\nsuites:\n  tests/:\n    summary: s\n" },
    expect: /^spread\.yaml:1:1: .*path/m,
  },
  {
    name: "bad task.yaml",
    files: {
      "troupe.yaml": "project: p\nsuites:\n  tests/:\n    summary: s\n",
      "tests/a/task.yaml": "summary: a\nexecute: true\nkill-timeout: forever\n",
    },
    expect: /^tests\/a\/task\.yaml:3:15: /m,
  },
  {
    name: "role script for an unknown role",
    files: {
      "troupe.yaml": "project: p\nsuites:\n  tests/:\n    summary: s\n",
      "tests/a/task.yaml": "summary: a\nhosts:\n  server: {}\nexecute/client: true\n",
    },
    expect: /^tests\/a\/task\.yaml:4:1: .*client/m,
  },
  {
    name: "bad filter",
    files: { ...task, "troupe.yaml": "project: p\nsuites:\n  tests/:\n    summary: s\n" },
    expect: /^error: invalid filter "x\[y": .*"\.\.\." as a wildcard/m,
  },
];

for (const c of cases) {
  test(`positioned error: ${c.name}`, () => {
    const dir = project(c.files);
    const args = c.name === "bad filter" ? ["list", "x[y"] : ["list"];
    const r = troupe(args, { cwd: dir });
    assert.equal(r.status, 2, `exit status for ${c.name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, c.expect);
    assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+\)?\n/); // never a stack trace
  });
}

test("several mistakes are reported at once", () => {
  const dir = project({
    ...task,
    "troupe.yaml": "project: p\nkill-timeout: soon\nsuites:\n  tests/:\n    summary: s\n    preapre: x\n  missing/:\n    summary: s\n",
  });
  const r = troupe(["list"], { cwd: dir });
  assert.equal(r.status, 2);
  const located = r.stderr.split("\n").filter((l) => /^troupe\.yaml:\d+:\d+: /.test(l));
  assert.ok(located.length >= 3, r.stderr);
});

test("running a backend type troupe cannot run says what to do, before anything runs", () => {
  const linode = "project: p\npath: /remote/p\nbackends:\n  linode:\n    systems: [ubuntu-16.04]\n";
  const dir = project({ ...task, "spread.yaml": linode + "suites:\n  tests/:\n    summary: s\n" });
  const r = troupe(["run"], { cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^spread\.yaml:4:3: .*linode.*--backend-as linode=local/m);
});
