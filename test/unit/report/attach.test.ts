import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachReporters, toRunJson } from "../../../src/report/index.js";
import { EventStream } from "../../../src/report/events.js";
import { readRunJson } from "../../../src/report/json.js";
import { toJUnit } from "../../../src/report/junit.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { JOB_A, Memory } from "./helpers.js";

test("attachReporters: terminal lines, run dir, JUnit and JSON copies; detached after finish", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-attach-"));
  try {
    const events = new EventStream();
    const out = new Memory();
    const err = new Memory();
    const runDir = join(dir, ".troupe/runs/r9");
    const hub = attachReporters(events, {
      kind: "run",
      runDir,
      junit: join(dir, "out/junit.xml"),
      json: join(dir, "out/run.json"),
      verbosity: 0,
      tty: false,
      color: false,
      out,
      err,
    });
    events.emit({ type: "run-started", runId: "r9", dir: runDir, seed: 3, jobs: 1, workers: 1 });
    events.emit({ type: "job-started", job: JOB_A, hosts: ["local-1"], seq: 1, total: 1 });
    events.emit({ type: "hook-started", job: JOB_A, context: JOB_A, level: "task", phase: "execute", host: "local-1" });
    events.emit({ type: "output", job: JOB_A, context: JOB_A, phase: "execute", host: "local-1", stream: "stdout", line: "hi" });
    events.emit({
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "execute",
      host: "local-1",
      exitCode: 0,
      durationMs: 3,
      output: "hi",
    });
    events.emit({ type: "job-finished", job: JOB_A, status: "passed", durationMs: 3 });
    events.emit({ type: "run-finished", passed: [JOB_A], failed: [], aborted: [], failedHooks: [], durationMs: 5, interrupted: false });

    await hub.finish();
    await hub.finish(); // idempotent
    const run = toRunJson(hub.model, Date.now());
    assert.equal(err.text(), "");
    assert.match(out.text(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Executing local:debian-12:tests\/main\/hello \(local-1\) \(1\/1\)\.\.\.$/m);
    assert.match(out.text(), /Successful tasks: 1\n.*Aborted tasks: 0\n$/);

    const copy = await readRunJson(join(dir, "out/run.json"));
    assert.deepEqual(copy, await readRunJson(join(runDir, "run.json")));
    assert.equal(copy.jobs[0]!.status, "passed");
    assert.equal(await readFile(join(runDir, "output.log"), "utf8"), `==> ${JOB_A} on local-1: execute <==\nhi\n`);
    assert.equal(await readFile(join(dir, "out/junit.xml"), "utf8"), toJUnit(run));

    const before = out.text();
    events.message("info", "after the end");
    assert.equal(out.text(), before, "detached");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("attachReporters reports files it cannot write on err instead of throwing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-attach-"));
  try {
    await writeFile(join(dir, "file"), "");
    const events = new EventStream();
    const err = new Memory();
    const hub = attachReporters(events, {
      kind: "run",
      runDir: join(dir, "run"),
      junit: join(dir, "file", "junit.xml"),
      verbosity: 0,
      tty: false,
      color: false,
      out: new Memory(),
      err,
    });
    events.emit({ type: "run-finished", passed: [], failed: [], aborted: [], failedHooks: [], durationMs: 1, interrupted: false });
    await hub.finish();
    assert.match(err.text(), /^troupe: cannot write .*junit\.xml: E(NOTDIR|EXIST)/m);
    assert.equal(hub.errors.length, 1, "the caller learns it too (the exit status can say so)");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("readRunJson refuses a file that is not a troupe run.json", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-attach-"));
  try {
    await writeFile(join(dir, "a.json"), '{"jobs": []}');
    await writeFile(join(dir, "b.json"), "{not json");
    await assert.rejects(readRunJson(join(dir, "a.json")), (e) => isTroupeError(e) && e.code === "E_SCHEMA");
    await assert.rejects(readRunJson(join(dir, "b.json")), (e) => isTroupeError(e) && e.code === "E_YAML");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
