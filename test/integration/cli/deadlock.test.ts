// Deadlock of a multi-host job, through the CLI on local processes (and once
// on lab hosts): when every host waits in troupe-ctl and none can go on, the
// job fails after its deadlock-timeout, naming what each host waits for, in
// the summary, run.json and JUnit, instead of hanging to the kill-timeout.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe } from "./helpers.js";

const PROJECT = "project: dlk\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 3\nsuites:\n  s/:\n    summary: s\n";

function runJson(dir: string): { jobs: { status: string; reason?: string }[] } {
  const ids = readdirSync(join(dir, ".troupe", "runs"));
  assert.equal(ids.length, 1);
  return JSON.parse(readFileSync(join(dir, ".troupe", "runs", ids[0]!, "run.json"), "utf8")) as {
    jobs: { status: string; reason?: string }[];
  };
}

/** Run `task` (a task.yaml) and return the job's reason after checking it failed everywhere with it. */
function failsWith(task: string, why: string, extra: readonly string[] = [], env: Record<string, string> = {}): ReturnType<typeof troupe> {
  const dir = project({ "troupe.yaml": PROJECT, "s/t/task.yaml": task });
  try {
    const junit = join(dir, "junit.xml");
    const r = troupe(["run", "--junit", junit, ...extra], { cwd: dir, env });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.ok(r.stdout.includes(`- local:sys:s/t (${why})\n`), r.stdout);
    const job = runJson(dir).jobs[0]!;
    assert.equal(job.status, "failed");
    assert.equal(job.reason, why);
    assert.ok(readFileSync(junit, "utf8").includes(why.replace(/"/g, "&quot;")), "JUnit names the deadlock");
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The example of docs/multihost.md, as it is (it is manual: named by the filter).
const EXAMPLE = readFileSync(join(REPO, "examples", "multihost", "cluster", "deadlock", "task.yaml"), "utf8");

const EXAMPLE_WHY =
  "execute failed: deadlock: every host of the job waits and none can go on: " +
  'server waits at barrier "ready" (1 of 3 arrived: server; not arrived: client-1, client-2), ' +
  'client-1 waits for message "go" (nobody else sent it), client-2 waits for kv key "port" (not set)';

test("hosts waiting for each other fail after the deadlock-timeout, naming what each waits for, and their troupe-ctl exits 125", () => {
  const r = failsWith(EXAMPLE, EXAMPLE_WHY, ["-vv", "s/t"]);
  assert.match(r.stdout, /server: troupe-ctl exited 125 \(125: the job is poisoned\)/);
  assert.match(r.stdout, /troupe-ctl: wait go: poisoned: deadlock: every host of the job waits/);
});

test("a host whose script ended releases nobody: the other's wait is a deadlock", () => {
  failsWith(
    `summary: the server ends without setting the key the client waits for
deadlock-timeout: 1s
hosts:
  server: {}
  client: {}
execute/server: |
  echo "forgot to publish the port"
execute/client: |
  troupe-ctl kv get port --wait
`,
    'execute failed: deadlock: no host of the job can go on: client waits for kv key "port" (not set), server runs no script',
  );
});

test("hosts that wait while another works are not a deadlock, however long the work", () => {
  const dir = project({
    "troupe.yaml": PROJECT,
    "s/t/task.yaml": `summary: the client waits while the server works longer than the deadlock-timeout, then sends
deadlock-timeout: 300ms
hosts:
  server: {}
  client: {}
execute/server: |
  troupe-ctl barrier started
  sleep 2
  troupe-ctl send go
execute/client: |
  troupe-ctl barrier started
  troupe-ctl wait go
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /deadlock/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("deadlock-timeout: off leaves a deadlock to the kill-timeout; a value that is no duration is an error with its position", () => {
  const dir = project({
    "troupe.yaml": PROJECT,
    "s/t/task.yaml": `summary: a deadlock nobody looks for
deadlock-timeout: off
kill-timeout: 2s
hosts:
  server: {}
  client: {}
execute: |
  troupe-ctl wait go
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /- local:sys:s\/t \(execute failed on (server|client): kill-timeout reached\)\n/);
    assert.doesNotMatch(r.stdout, /deadlock/);
    writeFileSync(join(dir, "s", "t", "task.yaml"), "summary: t\ndeadlock-timeout: 10\nexecute: 'true'\n");
    const bad = troupe(["list"], { cwd: dir });
    assert.equal(bad.status, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /^s\/t\/task\.yaml:2:19: deadlock-timeout: "10" has no unit; write 10s, 10m or 10h/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the same deadlock on two lab hosts, troupe-ctl reached over ssh, and nothing left behind", () => {
  const tmp = privateTmp();
  try {
    const r = failsWith(EXAMPLE, EXAMPLE_WHY, ["--backend-as", "local=lab", "s/t"], { TMPDIR: tmp });
    assert.match(r.stdout, /Allocated local:sys \(sys-\d+\) at 10\.213\./);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
