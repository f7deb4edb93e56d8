import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunJson } from "../../../src/report/run-json.js";
import { readRunJson } from "../../../src/report/json.js";
import type { TroupeEvent } from "../../../src/report/events.js";
import { at, JOB_A, JOB_B, MJOB, multiHostRun, RJOB, rolesRun, SERVER, singleHostRun, resultsWriter } from "./helpers.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "troupe-report-"));
}

async function run(events: readonly TroupeEvent[], runDir: string): Promise<RunJson> {
  const w = resultsWriter({ runDir, rewriteMs: 0, now: () => events[events.length - 1]!.time });
  for (const e of events) w.handle(e);
  const result = await w.finish();
  assert.deepEqual(w.errors, []);
  return result;
}

test("single-host run: one folder per job, a log per hook, run.json with every field", async () => {
  const dir = await tempDir();
  try {
    const result = await run(singleHostRun(), dir);
    const onDisk = await readRunJson(join(dir, "run.json"));
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(result)));

    assert.equal(result.runId, "r1");
    assert.equal(result.seed, 42);
    assert.equal(result.status, "finished");
    assert.equal(result.startTime, "2016-06-02T12:34:56.000Z");
    assert.equal(result.endTime, "2016-06-02T12:35:03.000Z");
    assert.equal(result.durationMs, 7000);
    assert.deepEqual(result.totals, { jobs: 2, passed: 1, failed: 1, aborted: 0, skipped: 0 });

    const entries = (await readdir(dir)).sort();
    // A folder for the job that failed; what passed quickly is in output.log.
    assert.deepEqual(entries, ["local_debian-12_tests-main-fail_v1", "output.log", "run.json"]);

    const [a, b] = result.jobs;
    assert.ok(a && b);
    assert.deepEqual(
      {
        name: a.name,
        backend: a.backend,
        system: a.system,
        suite: a.suite,
        task: a.task,
        variant: a.variant,
        status: a.status,
        seq: a.seq,
        dir: a.dir,
      },
      {
        name: JOB_A,
        backend: "local",
        system: "debian-12",
        suite: "tests/main/",
        task: "tests/main/hello",
        variant: "",
        status: "passed",
        seq: 1,
        dir: undefined,
      },
    );
    assert.equal(b.variant, "v1");
    assert.equal(b.status, "failed");
    assert.equal(b.durationMs, 1500);
    assert.equal(b.reason, "execute failed on local-1: exit status 1");
    assert.deepEqual(b.hosts, [
      {
        name: "local-1",
        status: "failed",
        exitCode: 1,
        durationMs: 1000,
        logPath: "local_debian-12_tests-main-fail_v1/execute.log",
        logs: ["local_debian-12_tests-main-fail_v1/execute.log", "output.log"],
        error: "execute: exit status 1",
      },
    ]);
    const exec = b.hooks.find((h) => h.phase === "execute");
    assert.deepEqual(exec, {
      phase: "execute",
      level: "task",
      context: JOB_B,
      host: "local-1",
      exitCode: 1,
      status: "failed",
      durationMs: 1000,
      startTime: "2016-06-02T12:35:00.000Z",
      endTime: "2016-06-02T12:35:01.000Z",
      logPath: "local_debian-12_tests-main-fail_v1/execute.log",
      error: "exit status 1",
      output: "+ echo 'a <b> & c'\na <b> & c\n+ exit 1",
    });
    // Passing scripts keep no output in run.json; their log has it.
    assert.equal(a.hooks[0]!.output, undefined);

    assert.equal(a.hooks[0]!.logPath, "output.log");
    assert.equal(
      await readFile(join(dir, "local_debian-12_tests-main-fail_v1/execute.log"), "utf8"),
      "+ echo 'a <b> & c'\na <b> & c\n+ exit 1\n",
    );
    // Project hooks live apart from jobs.
    assert.deepEqual(
      result.hooks.map((h) => [h.level, h.phase, h.context, h.status, h.logPath]),
      [
        ["project", "prepare", SERVER, "passed", "output.log"],
        ["project", "restore", SERVER, "passed", "output.log"],
      ],
    );
    // What passed quickly: one section per hook, in the order they ended, every line.
    assert.equal(
      await readFile(join(dir, "output.log"), "utf8"),
      [
        `==> ${SERVER} on local-1: project prepare <==`,
        "+ apt update",
        `==> ${JOB_A} on local-1: execute <==`,
        "+ echo hello",
        "hello",
        `==> ${JOB_B} on local-1: restore <==`,
        `==> ${SERVER} on local-1: project restore <==`,
        "",
      ].join("\n"),
    );

    assert.deepEqual(result.hosts, [
      {
        name: "local-1",
        backend: "local",
        system: "debian-12",
        address: "127.0.0.1",
        allocatedTime: "2016-06-02T12:34:57.000Z",
        discardedTime: "2016-06-02T12:35:03.000Z",
      },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("multi-host job: a log per host, per-host status, a reason naming every failing host", async () => {
  const dir = await tempDir();
  try {
    const result = await run(multiHostRun(), dir);
    const job = result.jobs[0]!;
    assert.equal(job.name, MJOB);
    const log = (h: string): string => `local_debian-12_tests-net-perf/execute.${h}.log`;
    assert.deepEqual(job.hosts, [
      { name: "server-1", status: "passed", exitCode: 0, durationMs: 2000, logPath: log("server-1"), logs: [log("server-1")] },
      {
        name: "client-1",
        status: "failed",
        exitCode: 2,
        durationMs: 1000,
        logPath: log("client-1"),
        logs: [log("client-1")],
        error: "execute: exit status 2",
      },
      {
        name: "client-2",
        status: "failed",
        exitCode: null,
        durationMs: 8000,
        logPath: log("client-2"),
        logs: [log("client-2")],
        error: "execute: kill-timeout reached",
      },
    ]);
    assert.equal(job.reason, "execute failed on client-1: exit status 2 (failed hosts: client-1, client-2)");
    const killed = job.hooks.find((h) => h.host === "client-2")!;
    assert.equal(killed.killedBy, "timeout");
    assert.equal(killed.output, "waiting\n<kill-timeout reached>");
    assert.equal(
      await readFile(join(dir, "local_debian-12_tests-net-perf/execute.client-2.log"), "utf8"),
      "waiting\n<kill-timeout reached>\n",
    );
    assert.equal(await readFile(join(dir, "local_debian-12_tests-net-perf/execute.server-1.log"), "utf8"), "listening\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("multi-host job with roles: hosts named as in the job, one log per host per hook, the cause of the failure first", async () => {
  const dir = await tempDir();
  try {
    const result = await run(rolesRun(), dir);
    const job = result.jobs[0]!;
    assert.equal(job.name, RJOB);
    assert.equal(job.status, "failed");
    assert.equal(job.reason, "execute failed on lead: exit status 1");
    const d = job.dir!;
    // Prepare and restore passed quickly: their lines are in output.log; each failed execute has its own log.
    const logs = (as: string): string[] => ["output.log", `${d}/execute.${as}.log`];
    // Hosts in the order the job lists them; logs named after the hosts' names
    // in the job, which stay the same whichever machine plays them.
    assert.deepEqual(job.hosts, [
      {
        name: "debian-2",
        as: "lead",
        role: "lead",
        status: "failed",
        exitCode: 1,
        durationMs: 500,
        logPath: `${d}/execute.lead.log`,
        logs: logs("lead"),
        error: "execute: exit status 1",
      },
      {
        name: "debian-3",
        as: "peer-1",
        role: "peer",
        status: "failed",
        exitCode: 125,
        durationMs: 500,
        logPath: `${d}/execute.peer-1.log`,
        logs: logs("peer-1"),
        error: "execute: exit status 125",
      },
      {
        name: "debian-1",
        as: "peer-2",
        role: "peer",
        status: "failed",
        exitCode: 125,
        durationMs: 500,
        logPath: `${d}/execute.peer-2.log`,
        logs: logs("peer-2"),
        error: "execute: exit status 125",
      },
    ]);
    assert.deepEqual((await readdir(join(dir, d))).sort(), ["execute.lead.log", "execute.peer-1.log", "execute.peer-2.log"]);
    assert.equal(await readFile(join(dir, d, "execute.lead.log"), "utf8"), "lead gives up\n");
    assert.equal(await readFile(join(dir, d, "execute.peer-1.log"), "utf8"), "troupe-ctl: barrier middle: poisoned\n");
    assert.match(
      await readFile(join(dir, "output.log"), "utf8"),
      new RegExp(`==> ${RJOB} on debian-1 as peer-2: prepare <==\nprepared debian-1\n`),
    );
    const exec = job.hooks.filter((h) => h.phase === "execute");
    assert.deepEqual(
      exec.map((h) => [h.host, h.as, h.error]),
      [
        ["debian-2", "lead", "exit status 1"],
        ["debian-3", "peer-1", "exit status 125"],
        ["debian-1", "peer-2", "exit status 125"],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a failed multi-host job without the engine's reason gets one naming the first host to fail", async () => {
  const dir = await tempDir();
  try {
    const events = rolesRun().map((e) => (e.type === "job-finished" ? { ...e, reason: undefined } : e));
    const result = await run(events, dir);
    assert.equal(result.jobs[0]!.reason, "execute failed on lead: exit status 1 (failed hosts: lead, peer-1, peer-2)");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("aborted and never-started jobs, repeated hooks, output only at the end, engine's reason kept", async () => {
  const dir = await tempDir();
  try {
    const suite = "local:debian-12:tests/main/";
    const result = await run(
      [
        at(0, { type: "run-started", runId: "r3", dir, seed: 1, jobs: 3, workers: 1 }),
        at(0, { type: "hook-started", job: suite, context: suite, level: "suite", phase: "prepare", host: "h" }),
        at(10, {
          type: "hook-finished",
          job: suite,
          context: suite,
          level: "suite",
          phase: "prepare",
          host: "h",
          exitCode: 0,
          durationMs: 10,
          output: "",
        }),
        at(10, { type: "job-started", job: JOB_A, hosts: ["h"], seq: 1, total: 3 }),
        // Two executes (Spread's -repeat), the engine giving output only at the end.
        at(10, {
          type: "hook-finished",
          job: JOB_A,
          context: JOB_A,
          level: "task",
          phase: "execute",
          host: "h",
          exitCode: 0,
          // Longer than a second: each keeps its own log (quick ones go to output.log).
          durationMs: 1500,
          output: "first",
        }),
        at(20, {
          type: "hook-finished",
          job: JOB_A,
          context: JOB_A,
          level: "task",
          phase: "execute",
          host: "h",
          exitCode: 0,
          durationMs: 1500,
          output: "second\n",
        }),
        at(30, { type: "job-finished", job: JOB_A, status: "passed", durationMs: 20 }),
        at(30, { type: "job-started", job: JOB_B, hosts: ["h"], seq: 2, total: 3 }),
        at(30, {
          type: "hook-finished",
          job: JOB_B,
          context: JOB_B,
          level: "task",
          phase: "prepare",
          host: "h",
          exitCode: 1,
          durationMs: 5,
          output: "no disk",
        }),
        at(40, { type: "job-finished", job: JOB_B, status: "aborted", durationMs: 10, reason: "task prepare failed" }),
        at(50, {
          type: "run-finished",
          passed: [JOB_A],
          failed: [],
          aborted: [JOB_B, MJOB],
          failedHooks: [{ phase: "prepare", level: "task", context: "local:debian-12", host: "debian-12-1" }],
          durationMs: 50,
          interrupted: true,
        }),
      ],
      dir,
    );
    assert.equal(result.status, "interrupted");
    assert.deepEqual(result.failedHooks, ["prepare task (local:debian-12)"]);
    assert.deepEqual(result.totals, { jobs: 3, passed: 1, failed: 0, aborted: 2, skipped: 0 });
    const [a, b, never] = result.jobs;
    assert.deepEqual(
      a!.hooks.map((h) => h.logPath),
      ["local_debian-12_tests-main-hello/execute.log", "local_debian-12_tests-main-hello/execute.2.log"],
    );
    assert.equal(await readFile(join(dir, "local_debian-12_tests-main-hello/execute.log"), "utf8"), "first\n");
    assert.equal(await readFile(join(dir, "local_debian-12_tests-main-hello/execute.2.log"), "utf8"), "second\n");
    assert.equal(b!.status, "aborted");
    assert.equal(b!.reason, "task prepare failed");
    assert.equal(b!.hosts[0]!.status, "failed");
    assert.equal(never!.name, MJOB);
    assert.equal(never!.status, "aborted");
    assert.equal(never!.seq, 0);
    assert.equal(never!.dir, undefined);
    assert.deepEqual(never!.hosts, []);
    assert.equal(result.hooks[0]!.logPath, "output.log", "a quick suite prepare is a section of output.log");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a run that ends without run-finished is written as incomplete, running jobs aborted", async () => {
  const dir = await tempDir();
  try {
    const events = singleHostRun().slice(0, 10); // stops inside job A's execute
    const result = await run(events, dir);
    assert.equal(result.status, "incomplete");
    assert.equal(result.jobs[0]!.status, "aborted");
    assert.equal(result.jobs[0]!.reason, "the run ended before the job finished");
    assert.equal(result.jobs[0]!.hooks[0]!.status, "running");
    // The lines printed so far reached the log.
    assert.equal(await readFile(join(dir, "local_debian-12_tests-main-hello/execute.log"), "utf8"), "+ echo hello\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("run.json is rewritten atomically as jobs finish: a reader never sees a partial file", async () => {
  const dir = await tempDir();
  try {
    const w = resultsWriter({ runDir: dir, rewriteMs: 0 });
    w.handle(at(0, { type: "run-started", runId: "big", dir, seed: 1, jobs: 300, workers: 4 }));
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        try {
          const text = await readFile(join(dir, "run.json"), "utf8");
          JSON.parse(text); // throws on a half-written file
          reads++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    let seen = 0;
    try {
      for (let i = 0; i < 300; i++) {
        const job = `local:debian-12:tests/main/t${i}`;
        w.handle(at(i, { type: "job-started", job, hosts: ["h"], seq: i + 1, total: 300 }));
        w.handle(
          at(i, {
            type: "hook-finished",
            job,
            context: job,
            level: "task",
            phase: "execute",
            host: "h",
            exitCode: 0,
            durationMs: 1,
            output: "x".repeat(2000),
          }),
        );
        w.handle(at(i, { type: "job-finished", job, status: "passed", durationMs: 1 }));
        if (i % 30 === 0) {
          await w.settled();
          const mid = JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as RunJson;
          assert.ok(mid.jobs.length >= seen, "each rewrite has at least the jobs of the one before");
          seen = mid.jobs.length;
        }
      }
    } finally {
      stop = true;
    }
    const result = await w.finish();
    await reader;
    assert.ok(reads > 0);
    assert.ok(seen > 0 && seen < 300, `run.json was rewritten during the run (saw ${seen} jobs)`);
    assert.equal(result.jobs.length, 300);
    assert.equal((JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as RunJson).jobs.length, 300);
    // No temporary file is left behind.
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes(".tmp")),
      [],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("rewrites are spaced by rewriteMs while the run goes on, but finish writes at once", async () => {
  const dir = await tempDir();
  try {
    let now = 1_000_000;
    const w = resultsWriter({ runDir: dir, rewriteMs: 60_000, now: () => now });
    w.handle(at(0, { type: "run-started", runId: "slow", dir, seed: 1, jobs: 1, workers: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    w.handle(at(1, { type: "job-finished", job: JOB_A, status: "passed", durationMs: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    const early = JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as RunJson;
    assert.equal(early.jobs.length, 0, "the second write waits for the interval");
    now += 1;
    const result = await w.finish();
    assert.equal(result.jobs.length, 1);
    const final = JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as RunJson;
    assert.equal(final.jobs.length, 1);
    assert.equal(final.status, "incomplete");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("files that cannot be written are reported, not thrown", async () => {
  const dir = await tempDir();
  try {
    const blocker = join(dir, "file");
    await (await import("node:fs/promises")).writeFile(blocker, "");
    const w = resultsWriter({ runDir: join(blocker, "run"), rewriteMs: 0 });
    for (const e of singleHostRun()) w.handle(e);
    const result = await w.finish();
    assert.equal(result.jobs.length, 2);
    assert.ok(w.errors.length > 0);
    assert.ok(
      w.errors.some((e) => /cannot write .*run\.json/.test(e.message)),
      w.errors.map((e) => e.message).join("; "),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a log file that fails to open late is reported and does not hang finish", async () => {
  const dir = await tempDir();
  try {
    const { mkdir } = await import("node:fs/promises");
    // A directory where output.log should go: open fails asynchronously with EISDIR.
    await mkdir(join(dir, "output.log"), { recursive: true });
    const w = resultsWriter({ runDir: dir, rewriteMs: 0 });
    const events = singleHostRun();
    for (const e of events.slice(0, 9)) w.handle(e);
    await new Promise((r) => setTimeout(r, 20)); // let the open fail before more lines arrive
    for (const e of events.slice(9)) w.handle(e);
    const result = await w.finish();
    assert.equal(result.status, "finished");
    assert.ok(
      w.errors.some((e) => /EISDIR/.test(e.message)),
      w.errors.map((e) => e.message).join("; "),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
