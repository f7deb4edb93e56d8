import { test } from "node:test";
import { describeFailedHook } from "../../../src/report/events.js";
import assert from "node:assert/strict";
import { runLocal, traceOf, tr, world } from "./builders.js";

test("a failing execute still restores everything, runs the debug scripts and reports their output", async () => {
  const { jobs } = world({
    project: { restore: tr("project restore"), debugEach: 'echo "project debug-each for $SPREAD_TASK"' },
    suites: [
      {
        name: "s/",
        restore: tr("suite restore"),
        restoreEach: tr("suite restore-each"),
        tasks: [
          {
            name: "bad",
            execute: `${tr("bad execute")}\necho doing; false\necho never`,
            restore: tr("bad restore"),
            debug: "echo task debug here",
          },
          { name: "good", execute: tr("good execute") },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/bad"]);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/good"]);
  assert.equal(h.outcome.success, false);
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), [
    "bad execute",
    "bad restore",
    "suite restore-each",
    "good execute",
    "suite restore-each",
    "suite restore",
    "project restore",
  ]);

  const debug = h.of("hook-finished").filter((e) => e.phase === "debug");
  assert.equal(debug.length, 1, "debug runs once, for the failing execute, not again for its restore");
  assert.match(debug[0]!.output, /task debug here\n/);
  assert.match(debug[0]!.output, /^project debug-each for s\/bad$/m);
  assert.equal(debug[0]!.level, "task");
  const exec = h.of("hook-finished").find((e) => e.phase === "execute" && e.job === "local:sys:s/bad")!;
  assert.equal(exec.exitCode, 1);
  assert.equal(exec.error, "exit status 1");
  assert.match(exec.output, /doing/);
  assert.doesNotMatch(exec.output, /never/);
  const fin = h.of("job-finished").find((e) => e.job === "local:sys:s/bad")!;
  assert.equal(fin.status, "failed");
  assert.match(fin.reason ?? "", /execute failed: exit status 1/);
});

test("a failing task prepare aborts the task (no execute), restores, and is listed as a failed hook", async () => {
  const { jobs } = world({
    suites: [{ name: "s/", tasks: [{ name: "t", prepare: "exit 3", execute: tr("execute"), restore: tr("restore"), debug: "echo dbg" }] }],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/t"]);
  assert.deepEqual(h.outcome.failedHooks.map(describeFailedHook), ["prepare task (local:sys:s/t)"]);
  assert.deepEqual(
    h.outcome.failedHooks.map((f) => [f.phase, f.level, f.host, f.error]),
    [["prepare", "task", "sys-1", "exit status 3"]],
    "structured: where, on which host, why",
  );
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), ["restore"]);
  assert.equal(h.of("hook-finished").filter((e) => e.phase === "debug").length, 1);
  assert.deepEqual(h.of("run-finished")[0]!.failedHooks.map(describeFailedHook), ["prepare task (local:sys:s/t)"]);
});

test("a failing suite prepare aborts that suite's jobs on the worker; other suites still run", async () => {
  const { jobs } = world({
    suites: [
      {
        name: "s1/",
        prepare: "false",
        restore: tr("s1 restore"),
        tasks: [
          { name: "a", execute: tr("a") },
          { name: "b", execute: tr("b") },
        ],
      },
      { name: "s2/", tasks: [{ name: "c", execute: tr("c") }] },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s1/a", "local:sys:s1/b"]);
  assert.deepEqual(h.outcome.passed, ["local:sys:s2/c"]);
  assert.deepEqual(h.outcome.failedHooks.map(describeFailedHook), ["prepare suite (local:sys:s1/)"]);
  // Spread still restores the suite it entered when it leaves it.
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), ["s1 restore", "c"]);
});

test("a failing restore breaks the worker: its remaining jobs go elsewhere or are aborted, outer restores still run", async () => {
  const { jobs } = world({
    project: { restore: tr("project restore") },
    suites: [
      {
        name: "s/",
        restore: tr("suite restore"),
        tasks: [
          { name: "a", execute: tr("a"), restore: "echo cannot clean; exit 1" },
          { name: "b", execute: tr("b") },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/a"], "execute passed; the restore failure is a hook failure");
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/b"]);
  assert.deepEqual(h.outcome.failedHooks.map(describeFailedHook), ["restore task (local:sys:s/a)"]);
  const broken = h.of("worker-broken");
  assert.equal(broken.length, 1);
  assert.equal(broken[0]!.host, "sys-1");
  assert.match(broken[0]!.reason, /restore of local:sys:s\/a failed/);
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), ["a", "suite restore", "project restore"]);
  assert.match(h.of("host-discarded")[0]!.reason ?? "", /broken/);
});

test("with two workers, the jobs of a broken worker go to the other one", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 2 }],
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "a", execute: "true", restore: "exit 1" },
          { name: "b", execute: "sleep 0.2" },
          { name: "c", execute: "true" },
          { name: "d", execute: "true" },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/a", "local:sys:s/b", "local:sys:s/c", "local:sys:s/d"]);
  const brokenHost = h.of("worker-broken")[0]!.host;
  const onBroken = h
    .of("job-started")
    .filter((e) => e.hosts[0] === brokenHost)
    .map((e) => e.job);
  assert.deepEqual(onBroken, ["local:sys:s/a"]);
});

test("FATAL breaks the worker; ERROR fails the script with its message (a troupe project)", async () => {
  const { jobs } = world({
    flavour: "troupe",
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "a", execute: "ERROR the widget is missing" },
          { name: "b", execute: "FATAL disk gone" },
          { name: "c", execute: "true" },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/a", "local:sys:s/b"]);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/c"]);
  const errs = h
    .of("hook-finished")
    .filter((e) => e.phase === "execute")
    .map((e) => e.error);
  assert.deepEqual(errs, ["the widget is missing", "disk gone"]);
  assert.match(h.of("job-finished")[0]!.reason ?? "", /the widget is missing/);
  assert.match(h.of("worker-broken")[0]!.reason, /FATAL.*disk gone/);
});

test("a Spread project's scripts have no FATAL, as in Spread: calling it fails the task like any missing command", async () => {
  const { jobs } = world({
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "b", execute: "FATAL disk gone" },
          { name: "c", execute: "true" },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/b"]);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/c"]);
  assert.equal(h.of("worker-broken").length, 0);
  assert.equal(h.of("hook-finished").find((e) => e.phase === "execute")!.exitCode, 127);
});

test("REBOOT fails clearly on the local backend", async () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "r", execute: 'if [ "$SPREAD_REBOOT" = 0 ]; then REBOOT; fi' }] }] });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/r"]);
  assert.equal(h.of("hook-finished").find((e) => e.phase === "execute")!.error, "REBOOT is not supported on the local backend");
});

test("repeat runs prepare, execute and restore again, and stops at the first failure", async () => {
  const count = 'n=$(cat "$SPREAD_PATH/../n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$SPREAD_PATH/../n"';
  const { jobs } = world({
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "ok", prepare: tr("ok prepare"), execute: tr("ok execute"), restore: tr("ok restore") },
          { name: "flaky", execute: `${count}\n${tr("flaky execute")}\n[ $n -lt 2 ]`, restore: tr("flaky restore") },
        ],
      },
    ],
  });
  const h = await runLocal(jobs, { repeat: 2 });
  assert.deepEqual(h.outcome.passed, ["local:sys:s/ok"]);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/flaky"]);
  const trace = await traceOf(h.runDir, "sys-1");
  assert.deepEqual(
    trace.filter((l) => l.startsWith("ok")),
    ["ok prepare", "ok execute", "ok restore", "ok prepare", "ok execute", "ok restore", "ok prepare", "ok execute", "ok restore"],
  );
  assert.deepEqual(
    trace.filter((l) => l.startsWith("flaky")),
    ["flaky execute", "flaky restore", "flaky execute", "flaky restore"],
  );
  assert.equal(h.of("job-started").length, 2, "one job-started per job, whatever the repeat");
});

test("warn-timeout reports output since the last warning; kill-timeout kills the script's process group", async () => {
  const { jobs } = world({
    timeouts: { task: { warn: 300, kill: 700 } },
    suites: [
      {
        name: "s/",
        tasks: [{ name: "slow", execute: 'echo started\nsleep 30 &\necho $! > "$SPREAD_PATH/../bg"\nwait', restore: tr("restored") }],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/slow"]);
  const warns = h.of("timeout-warning");
  assert.ok(warns.length >= 1);
  assert.match(warns[0]!.output, /started/);
  assert.equal(warns[0]!.phase, "execute");
  assert.equal(warns[0]!.host, "sys-1");
  if (warns[1]) assert.doesNotMatch(warns[1].output, /started/, "only what was printed since the last warning");
  const exec = h.of("hook-finished").find((e) => e.phase === "execute")!;
  assert.equal(exec.killedBy, "timeout");
  assert.equal(exec.exitCode, null);
  assert.equal(exec.error, "kill-timeout reached");
  assert.match(exec.output, /\n<kill-timeout reached>$/);
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), ["restored"]);
  const { readFile } = await import("node:fs/promises");
  const { isAlive } = await import("./builders.js");
  const bg = Number((await readFile(`${h.runDir}/hosts/sys-1/bg`, "utf8")).trim());
  for (let i = 0; i < 50 && isAlive(bg); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(isAlive(bg), false, "the background child was killed with its group");
});

test("output events are per line, in the order the script printed them, stderr and traces included", async () => {
  const { jobs } = world({
    suites: [{ name: "s/", tasks: [{ name: "t", execute: "printf 'one\\ntw'; sleep 0.05; printf 'o\\nthree'; echo err >&2" }] }],
  });
  const h = await runLocal(jobs);
  const out = h.of("output").filter((e) => e.phase === "execute");
  // The prelude merges stderr into stdout, as Spread's `bash - 2>&1`: one stream, in order.
  assert.ok(out.every((e) => e.stream === "stdout"));
  const lines = out.map((e) => e.line);
  // Exactly what a terminal would show: a trace follows an unterminated line.
  assert.deepEqual(lines, ["+ printf 'one\\ntw'", "one", "tw+ sleep 0.05", "+ printf 'o\\nthree'", "o", "three+ echo err", "err"]);
  assert.ok(out.every((e) => e.job === "local:sys:s/t" && e.host === "sys-1"));
  const fin = h.of("hook-finished").find((e) => e.phase === "execute")!;
  assert.equal(fin.output, lines.join("\n"));
  assert.equal(fin.exitCode, 0);
});

test("a writer that throws does not hang the run", async () => {
  const { jobs } = world({
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "a", execute: "true" },
          { name: "b", execute: "true" },
        ],
      },
    ],
  });
  let thrown = 0;
  const h = await runLocal(jobs, {
    onEvent: (e) => {
      if ((e.type === "job-started" || e.type === "host-discarded") && thrown++ < 2) throw new Error("writer bug");
    },
  });
  assert.ok(thrown >= 2);
  assert.equal(h.of("run-finished").length, 1);
  assert.ok(h.of("message").some((m) => /Internal error .*writer bug/.test(m.text)));
});
