// Multi-host jobs through the CLI: the examples/multihost project (a server
// and two clients, a ring, a migration) on local processes and on lab hosts,
// per-host results, and poison when one host fails in the middle of a barrier.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe } from "./helpers.js";

const EXAMPLE = join(REPO, "examples/multihost");

interface HostEntry {
  name: string;
  status: string;
  exitCode: number | null;
  durationMs: number;
  logPath?: string;
}
interface JobEntry {
  name: string;
  status: string;
  hosts: HostEntry[];
  reason?: string;
}

function runExample(extra: readonly string[], env: Record<string, string> = {}): { r: ReturnType<typeof troupe>; jobs: JobEntry[]; junit: string; runDir: string } {
  const out = mkdtempSync(join(tmpdir(), "troupe-mh-"));
  try {
    const r = troupe(["run", "--project", EXAMPLE, "-vv", "--json", join(out, "run.json"), "--junit", join(out, "junit.xml"), ...extra], { env });
    const json = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { runId: string; jobs: JobEntry[] };
    return { r, jobs: json.jobs, junit: readFileSync(join(out, "junit.xml"), "utf8"), runDir: join(EXAMPLE, ".troupe", "runs", json.runId) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function checkExample(run: ReturnType<typeof runExample>): void {
  const { r, jobs, junit, runDir } = run;
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Successful tasks: 3/);
  const byTask = new Map(jobs.map((j) => [j.name.split(":")[2], j]));
  const expectedHosts: Record<string, number> = { "cluster/http": 3, "cluster/ring": 4, "cluster/migration": 2 };
  const logText: Record<string, string> = {};
  for (const [task, count] of Object.entries(expectedHosts)) {
    const job = byTask.get(task);
    assert.ok(job, `no job for ${task}`);
    assert.equal(job.status, "passed");
    assert.equal(job.hosts.length, count, `${task}: ${JSON.stringify(job.hosts)}`);
    assert.equal(new Set(job.hosts.map((h) => h.name)).size, count, "one entry per host");
    for (const h of job.hosts) {
      assert.equal(h.status, "passed");
      assert.equal(h.exitCode, 0);
      assert.ok(h.durationMs >= 0);
      assert.ok(h.logPath, `${task} on ${h.name} has a log`);
      assert.match(h.logPath, new RegExp(`execute\\.${h.name}\\.log$`));
      assert.ok(existsSync(join(runDir, h.logPath)));
      logText[task] = (logText[task] ?? "") + readFileSync(join(runDir, h.logPath), "utf8");
    }
    // The JUnit file lists every host of the job with its status and log.
    for (const h of job.hosts) assert.match(junit, new RegExp(`${h.name}: passed, exit status 0, .*log .*execute\\.${h.name}\\.log`));
  }
  // Each host's log holds that host's own output.
  assert.equal((logText["cluster/http"]!.match(/^client-\d fetched from server at /gm) ?? []).length, 2);
  assert.equal((logText["cluster/ring"]!.match(/^node-\d made hop \d+$/gm) ?? []).length, 12);
  assert.match(logText["cluster/migration"]!, /new: resumed at 501, now 510 numbers/);
  assert.match(logText["cluster/migration"]!, /old: handed over 500 numbers/);
  // Live output of a multi-host job is prefixed with the host's name.
  assert.match(r.stdout, /^\S+: client-\d fetched from server at \S+:\d+$/m);
  rmSync(runDir, { recursive: true, force: true });
}

test("the multi-host example passes on local processes: per-host results in run.json, JUnit and logs", () => {
  checkExample(runExample([]));
});

test("the same example passes on four lab hosts, and leaves nothing behind", () => {
  const tmp = privateTmp();
  const run = runExample(["--backend-as", "local=lab"], { TMPDIR: tmp });
  checkExample(run);
  assert.match(run.r.stdout, /Allocated local:debian \(debian-\d+\) at 10\.213\./);
  assert.deepEqual(labLeftovers(run.r.pid, tmp), []);
});

test("a host that fails in the middle of a barrier fails the job; the others' waits fail at once, naming it", () => {
  const dir = project({
    "troupe.yaml": "project: poison\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 3\nsuites:\n  s/:\n    summary: s\n",
    "s/t/task.yaml": `summary: one host gives up between two barriers
hosts:
  lead: {}
  peer: {count: 2}
execute/lead: |
  troupe-ctl barrier start
  echo "lead gives up"
  exit 1
execute/peer: |
  troupe-ctl barrier start
  troupe-ctl barrier middle
  echo "never here"
`,
  });
  try {
    const junit = join(dir, "junit.xml");
    const r = troupe(["run", "--junit", junit], { cwd: dir });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Failed tasks: 1\n\s+- local:sys:s\/t/);
    // Both peers' barrier failed because of lead, not a timeout; neither went on.
    assert.equal((r.stdout.match(/troupe-ctl: barrier middle: poisoned: host lead failed: execute task failed on lead: exit status 1/g) ?? []).length, 2);
    assert.doesNotMatch(r.stdout, /never here\n/);
    const xml = readFileSync(junit, "utf8");
    assert.match(xml, /<failure message="[^"]*execute failed on lead: exit status 1"/);
    const runJson = JSON.parse(readFileSync(join(dir, ".troupe", "runs", onlyRun(dir), "run.json"), "utf8")) as { jobs: JobEntry[] };
    const [job] = runJson.jobs;
    assert.equal(job!.status, "failed");
    assert.match(job!.reason ?? "", /lead/);
    assert.deepEqual(job!.hosts.map((h) => h.status).sort(), ["failed", "failed", "failed"]);
    assert.deepEqual(job!.hosts.map((h) => h.exitCode).sort(), [1, 125, 125], "lead exits 1; the poisoned peers exit with troupe-ctl's 125");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The project's one run. */
function onlyRun(dir: string): string {
  const ids = readdirSync(join(dir, ".troupe", "runs"));
  assert.equal(ids.length, 1);
  return ids[0]!;
}
