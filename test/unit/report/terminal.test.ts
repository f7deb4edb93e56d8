import { test } from "node:test";
import assert from "node:assert/strict";
import type { TroupeEvent } from "../../../src/report/events.js";
import type { Verbosity } from "../../../src/report/reporters/terminal.js";
import { at, JOB_A, JOB_B, Memory, MJOB, multiHostRun, RJOB, rolesRun, SERVER, singleHostRun, terminalWriter } from "./helpers.js";

function plain(events: readonly TroupeEvent[], verbosity: Verbosity = 0): string {
  const out = new Memory();
  const w = terminalWriter({ out, verbosity, tty: false, color: false, timeZone: "utc" });
  for (const e of events) w.handle(e);
  w.close();
  return out.text();
}

test("plain mode prints Spread's lines with Spread's time prefix, output only on failure", () => {
  assert.equal(
    plain(singleHostRun()),
    [
      "2016-06-02 12:34:56 Sequence of jobs produced with -seed=42",
      "2016-06-02 12:34:56 Allocating local:debian-12...",
      "2016-06-02 12:34:57 Allocated local:debian-12 (local-1) at 127.0.0.1.",
      "2016-06-02 12:34:57 Sending project content to local:debian-12 (local-1)...",
      "2016-06-02 12:34:58 Preparing local:debian-12 (local-1)...",
      "2016-06-02 12:34:59 Executing local:debian-12:tests/main/hello (local-1) (1/2)...",
      "2016-06-02 12:35:00 Executing local:debian-12:tests/main/fail:v1 (local-1) (2/2)...",
      "2016-06-02 12:35:01 Error executing local:debian-12:tests/main/fail:v1 (local-1) :",
      "-----",
      "+ echo 'a <b> & c'",
      "a <b> & c",
      "+ exit 1",
      "-----",
      "2016-06-02 12:35:01 Restoring local:debian-12:tests/main/fail:v1 (local-1)...",
      "2016-06-02 12:35:02 Restoring local:debian-12 (local-1)...",
      "2016-06-02 12:35:03 Discarding local:debian-12 (local-1)...",
      "2016-06-02 12:35:03 Successful tasks: 1",
      "2016-06-02 12:35:03 Aborted tasks: 0",
      "2016-06-02 12:35:03 Failed tasks: 1",
      "    - local:debian-12:tests/main/fail:v1",
      "",
    ].join("\n"),
  );
});

test("-v ends the summary with the slowest jobs, after Spread's lines", () => {
  const text = plain(singleHostRun(), 1);
  assert.match(
    text,
    /Failed tasks: 1\n {4}- local:debian-12:tests\/main\/fail:v1\n.* Slowest tasks:\n {4}- local:debian-12:tests\/main\/fail:v1 \(1\.5s\)\n {4}- local:debian-12:tests\/main\/hello \(1\.0s\)\n$/,
  );
});

test("-v adds the output of successful scripts after each one ends", () => {
  const text = plain(singleHostRun(), 1);
  assert.match(text, /^2016-06-02 12:34:59 Output of preparing local:debian-12 \(local-1\) : \+ apt update$/m);
  assert.match(text, /Output of executing local:debian-12:tests\/main\/hello \(local-1\) :\n-----\n\+ echo hello\nhello\n-----\n/);
  // Shown once, in the block, not also live.
  assert.equal(text.match(/^hello$/gm)?.length, 1);
});

test("-vv shows every line live without prefix; multi-host lines carry the host name", () => {
  const single = plain(singleHostRun(), 2);
  assert.match(single, /\n\+ echo hello\nhello\n/);
  assert.match(single, /\na <b> & c\n\+ exit 1\n/);
  // The failure block is still printed.
  assert.match(single, /Error executing local:debian-12:tests\/main\/fail:v1 \(local-1\) :\n-----\n/);
  // Successful output is not repeated after the live lines.
  assert.doesNotMatch(single, /Output of executing/);

  const multi = plain(multiHostRun(), 2);
  assert.match(multi, /^server-1: listening$/m);
  assert.match(multi, /^client-1: connect failed$/m);
  assert.match(multi, /^client-2: waiting$/m);
});

test("multi-host failures: one error block per failing host, kill-timeout marked, job listed once", () => {
  const text = plain(multiHostRun());
  assert.match(text, /Executing local:debian-12:tests\/net\/perf \(server-1\) \(1\/1\)\.\.\./);
  assert.match(text, /Executing local:debian-12:tests\/net\/perf \(client-2\) \(1\/1\)\.\.\./);
  assert.match(text, /12:34:58 Error executing local:debian-12:tests\/net\/perf \(client-1\) : connect failed\n/);
  assert.match(
    text,
    /12:35:05 Error executing local:debian-12:tests\/net\/perf \(client-2\) :\n-----\nwaiting\n<kill-timeout reached>\n-----\n/,
  );
  assert.doesNotMatch(text, /Error executing .*server-1/);
  assert.match(text, /Failed tasks: 1\n {4}- local:debian-12:tests\/net\/perf\n$/);
});

test("multi-host job with roles: live lines prefixed with the host's name in the job; the summary says why and where", () => {
  const live = plain(rolesRun(), 2);
  assert.match(live, /^lead: lead gives up$/m);
  assert.match(live, /^peer-1: troupe-ctl: barrier middle: poisoned$/m);
  const text = plain(rolesRun());
  assert.match(text, /Preparing local:debian:s\/poison \(debian-3 as peer-1\)\.\.\./);
  assert.match(text, /Executing local:debian:s\/poison \(debian-2 as lead\) \(1\/1\)\.\.\./);
  assert.match(text, /Error executing local:debian:s\/poison \(debian-2 as lead\) : lead gives up\n/);
  assert.match(text, /Error executing local:debian:s\/poison \(debian-1 as peer-2\) : troupe-ctl: barrier middle: poisoned\n/);
  assert.match(text, new RegExp(`Failed tasks: 1\n {4}- ${RJOB} \\(execute failed on lead: exit status 1\\)\n$`));
});

test("a failed script that printed nothing shows its exit status as Spread does", () => {
  const text = plain([
    at(0, { type: "job-started", job: JOB_A, hosts: ["h"], seq: 1, total: 1 }),
    at(0, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "prepare",
      host: "h",
      exitCode: 3,
      durationMs: 5,
      output: "",
    }),
    at(0, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "execute",
      host: "h",
      exitCode: null,
      killedBy: "timeout",
      durationMs: 5,
      output: "",
    }),
  ]);
  assert.match(text, /Error preparing local:debian-12:tests\/main\/hello \(h\) : Process exited with status 3\n/);
  assert.match(text, /Error executing local:debian-12:tests\/main\/hello \(h\) : <kill-timeout reached>\n/);
});

test("running-late warnings: empty, unchanged, and the tail of a long output", () => {
  const base = { job: JOB_A, context: JOB_A, phase: "execute" as const, host: "h" };
  const long = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n");
  const text = plain([
    at(0, { type: "hook-started", ...base, level: "task" }),
    at(1000, { type: "timeout-warning", ...base, afterMs: 1000, output: "" }),
    at(2000, { type: "output", ...base, stream: "stdout", line: "x" }),
    at(3000, { type: "timeout-warning", ...base, afterMs: 3000, output: long }),
    at(4000, { type: "timeout-warning", ...base, afterMs: 4000, output: "" }),
  ]);
  const lines = text.split("\n");
  assert.equal(lines[1], "2016-06-02 12:34:57 WARNING: h (local:debian-12:tests/main/hello) running late. Output still empty.");
  assert.equal(lines[2], "2016-06-02 12:34:59 WARNING: h (local:debian-12:tests/main/hello) running late. Current output:");
  assert.equal(lines[3], "-----");
  assert.equal(lines[4], "(... 10 lines above ...)");
  assert.equal(lines[5], "line 11");
  assert.equal(lines[14], "line 20");
  assert.equal(lines[15], "-----");
  assert.equal(lines[16], "2016-06-02 12:35:00 WARNING: h (local:debian-12:tests/main/hello) running late. Output unchanged.");
});

test("the summary lists failed hooks in Spread's categories and order, names sorted", () => {
  const suiteCtx = "local:debian-12:tests/other/";
  const text = plain([
    at(0, {
      type: "hook-finished",
      job: suiteCtx,
      context: suiteCtx,
      level: "suite",
      phase: "prepare",
      host: "h1",
      exitCode: 1,
      durationMs: 1,
      output: "boom",
    }),
    at(0, {
      type: "hook-finished",
      job: SERVER,
      context: SERVER,
      level: "project",
      phase: "restore",
      host: "h1",
      exitCode: 1,
      durationMs: 1,
      output: "",
    }),
    at(0, {
      type: "hook-finished",
      job: SERVER,
      context: SERVER,
      level: "backend",
      phase: "prepare",
      host: "h2",
      exitCode: 1,
      durationMs: 1,
      output: "",
    }),
    at(0, {
      type: "hook-finished",
      job: `${JOB_B}#2`,
      context: `${JOB_B}#2`,
      level: "task",
      phase: "restore",
      host: "h1",
      exitCode: 1,
      durationMs: 1,
      output: "",
    }),
    at(0, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "prepare",
      host: "h1",
      exitCode: 1,
      durationMs: 1,
      output: "",
    }),
    at(0, {
      type: "run-finished",
      passed: [`${JOB_B}#2`],
      failed: [JOB_B, "local:alpine:tests/main/hello"],
      aborted: [JOB_A],
      // The engine's tally: the summary's one source (hook-finished events alone are not failures of the run).
      failedHooks: [
        { phase: "prepare", level: "suite", context: suiteCtx, host: "h1" },
        { phase: "restore", level: "project", context: SERVER, host: "h1" },
        { phase: "prepare", level: "backend", context: SERVER, host: "h2" },
        { phase: "restore", level: "task", context: `${JOB_B}#2`, host: "h1" },
        { phase: "prepare", level: "task", context: JOB_A, host: "h1" },
      ],
      durationMs: 1,
      interrupted: false,
    }),
  ]);
  const summary = text.slice(text.indexOf("2016-06-02 12:34:56 Successful"));
  assert.equal(
    summary,
    [
      "2016-06-02 12:34:56 Successful tasks: 1",
      "2016-06-02 12:34:56 Aborted tasks: 1",
      "    - local:debian-12:tests/main/hello",
      "2016-06-02 12:34:56 Failed tasks: 2",
      "    - local:alpine:tests/main/hello",
      "    - local:debian-12:tests/main/fail:v1",
      "2016-06-02 12:34:56 Failed task prepare: 1",
      "    - local:debian-12:tests/main/hello",
      "2016-06-02 12:34:56 Failed task restore: 1",
      "    - local:debian-12:tests/main/fail:v1",
      "2016-06-02 12:34:56 Failed suite prepare: 1",
      "    - local:debian-12:tests/other/",
      "2016-06-02 12:34:56 Failed backend prepare: 1",
      "    - local:debian-12:local",
      "2016-06-02 12:34:56 Failed project restore: 1",
      "    - local:debian-12:project",
      "",
    ].join("\n"),
  );
  assert.match(text, /Error preparing local:debian-12:tests\/other\/ \(h1\) : boom\n/);
});

test("messages: warnings prefixed, debug only at -vv; debug scripts print their output", () => {
  const events = [
    at(0, { type: "message", level: "info", text: "Project content is packed for delivery (1.00KB)." }),
    at(0, { type: "message", level: "warn", text: "something odd" }),
    at(0, { type: "message", level: "debug", text: "internal detail" }),
    at(0, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "debug",
      host: "h",
      exitCode: 0,
      durationMs: 1,
      output: "dmesg line",
    }),
  ] as const;
  const quiet = plain(events);
  assert.match(quiet, /12:34:56 Project content is packed for delivery \(1\.00KB\)\.\n/);
  assert.match(quiet, /12:34:56 WARNING: something odd\n/);
  assert.doesNotMatch(quiet, /internal detail/);
  assert.match(quiet, /Debug output for local:debian-12:tests\/main\/hello \(h\) : dmesg line\n/);
  assert.match(plain(events, 2), /internal detail/);
});

test("every write ends a line, so concurrent jobs never interleave partial lines; what comes at once goes in one write", async () => {
  const out = new Memory();
  const w = terminalWriter({ out, verbosity: 2, tty: false, color: false, timeZone: "utc" });
  const events = [...singleHostRun(), ...multiHostRun()];
  // Events a turn of the event loop apart: a write each turn.
  for (const e of events) {
    w.handle(e);
    await new Promise((r) => setImmediate(r));
  }
  const apart = out.chunks.length;
  assert.ok(apart > 10, `${apart} writes`);
  // The same events in one turn: one write (and one more where a run ends: the summary goes out at once).
  for (const e of events) w.handle(e);
  w.close();
  assert.ok(out.chunks.length - apart <= 2, `${out.chunks.length - apart} writes`);
  for (const c of out.chunks) assert.ok(c.endsWith("\n"), JSON.stringify(c));
});

test("color only when asked: errors red, no escapes at all otherwise", () => {
  const colored = new Memory();
  const w = terminalWriter({ out: colored, verbosity: 0, tty: false, color: true, timeZone: "utc" });
  for (const e of singleHostRun()) w.handle(e);
  w.close();
  assert.match(colored.text(), /\x1b\[31mError executing/);
  assert.doesNotMatch(plain(singleHostRun()), /\x1b/);
});

test("job names with samples are listed without their #N in the summary, as Spread does", () => {
  const text = plain([
    at(0, { type: "run-finished", passed: [], failed: [`${MJOB}#2`], aborted: [], failedHooks: [], durationMs: 1, interrupted: false }),
  ]);
  assert.match(text, /Failed tasks: 1\n {4}- local:debian-12:tests\/net\/perf\n/);
});
