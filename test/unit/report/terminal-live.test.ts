// The terminal writer around shells, interrupts and busy runs: what the
// user sees is never drawn over a shell, the Ctrl-C hint stays, lines of
// concurrent jobs say their host, and what hosts print is shown inert.

import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { at, JOB_A, JOB_B, Memory, T0, terminalWriter } from "./helpers.js";

const ERASE = /\x1b\[(\d+)A\r\x1b\[J/;

function busyRun(out: Memory, now: () => number, verbosity: -1 | 0 | 1 | 2 = 0) {
  const w = terminalWriter({ out, verbosity, tty: true, color: false, timeZone: "utc", now, columns: 100, rows: 30 });
  w.handle(at(0, { type: "run-started", runId: "r", dir: "/tmp/r", seed: 1, jobs: 3, workers: 2 }));
  w.handle(at(0, { type: "host-allocated", host: "h1", backend: "local", system: "debian-12", address: "127.0.0.1" }));
  w.handle(at(0, { type: "job-started", job: JOB_A, hosts: ["h1"], seq: 1, total: 3 }));
  w.handle(at(0, { type: "hook-started", job: JOB_A, context: JOB_A, level: "task", phase: "execute", host: "h1" }));
  return w;
}

test("a shell takes the terminal: the block is erased, nothing is drawn or written until it gives it back", () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  try {
    let now = T0;
    const out = new Memory();
    const w = busyRun(out, () => now);
    mock.timers.tick(1);
    assert.match(out.text(), /troupe: 0\/3 jobs done, 1 busy, 3 left, 0s elapsed\n/);
    w.handle(at(0, { type: "terminal", holder: "shell", host: "h1" }));
    const handedOver = out.chunks.length;
    assert.equal(ERASE.exec(out.chunks.at(-1)!)?.[1], "2", "the block (2 lines) is erased before the shell starts");
    // While the shell runs: lines come, time passes; nothing reaches the terminal.
    w.handle(at(500, { type: "message", level: "info", text: "while the shell runs" }));
    now += 5000;
    mock.timers.tick(5000);
    assert.equal(out.chunks.length, handedOver, "nothing is written over the shell");
    w.handle(at(6000, { type: "terminal", holder: "troupe", host: "h1" }));
    const back = out.chunks.slice(handedOver).join("");
    assert.doesNotMatch(back, ERASE, "nothing to erase: the block was erased before the shell");
    assert.match(back, /^2016-06-02 12:34:56 while the shell runs\ntroupe: 0\/3 jobs done, 1 busy, 3 left, 5s elapsed\n/);
    w.close();
    assert.equal(ERASE.exec(out.chunks.at(-1)!)?.[1], "2", "closing erases the block: no frozen copy in the scrollback");
  } finally {
    mock.timers.reset();
  }
});

test("after Ctrl-C the hint is written once and stays at the bottom of the block until the end", () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  try {
    let now = T0;
    const out = new Memory();
    const w = busyRun(out, () => now);
    const hint = "troupe: interrupted: stopping, restoring and discarding hosts (Ctrl-C again to skip restores)";
    w.handle(at(100, { type: "interrupt", second: false, text: hint }));
    now += 2000;
    mock.timers.tick(2000);
    const last = out.chunks.at(-1)!.replace(ERASE, "").split("\n");
    assert.equal(last.at(-2), hint, "the hint is the block's last line");
    assert.equal(out.text().split(`12:34:56 ${hint}\n`).length, 2, "and is logged once above it");
  } finally {
    mock.timers.reset();
  }
});

test("-vv with more than one job at a time: each live line says its host; control characters are spelled out", () => {
  const out = new Memory();
  const w = terminalWriter({ out, verbosity: 2, tty: false, color: false, timeZone: "utc" });
  w.handle(at(0, { type: "run-started", runId: "r", dir: "/tmp/r", seed: 1, jobs: 2, workers: 2 }));
  w.handle(at(0, { type: "job-started", job: JOB_A, hosts: ["h1"], seq: 1, total: 2 }));
  w.handle(at(0, { type: "job-started", job: JOB_B, hosts: ["h2"], seq: 2, total: 2 }));
  const line = (job: string, host: string, text: string) =>
    at(0, { type: "output", job, context: job, phase: "execute", host, stream: "stdout", line: text });
  w.handle(line(JOB_A, "h1", "from a"));
  w.handle(line(JOB_B, "h2", "from b \x1b]0;title\x07\x1b[2J"));
  w.flush();
  assert.match(out.text(), /^h1: from a$/m);
  assert.match(out.text(), /^h2: from b \^\[\]0;title\^G\^\[\[2J$/m);
  assert.doesNotMatch(out.text(), /\x1b|\x07/);
});

test("-q says only failures and the summary, which names aborted jobs and why", () => {
  const out = new Memory();
  const w = terminalWriter({ out, verbosity: -1, tty: false, color: false, timeZone: "utc" });
  w.handle(at(0, { type: "run-started", runId: "r", dir: "/tmp/r", seed: 1, jobs: 3, workers: 1 }));
  w.handle(at(0, { type: "host-allocated", host: "h1", backend: "local", system: "debian-12", address: "127.0.0.1" }));
  w.handle(at(0, { type: "job-started", job: JOB_A, hosts: ["h1"], seq: 1, total: 2 }));
  w.handle(at(0, { type: "hook-started", job: JOB_A, context: JOB_A, level: "task", phase: "execute", host: "h1" }));
  w.handle(
    at(10, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "execute",
      host: "h1",
      exitCode: 1,
      durationMs: 10,
      output: "boom",
    }),
  );
  w.handle(at(10, { type: "job-finished", job: JOB_A, status: "failed", durationMs: 10 }));
  w.handle(at(10, { type: "job-finished", job: JOB_B, status: "aborted", durationMs: 0, reason: "host h1 broke" }));
  w.handle(
    at(10, { type: "run-finished", passed: [], failed: [JOB_A], aborted: [JOB_B], failedHooks: [], durationMs: 10, interrupted: false }),
  );
  w.flush();
  const text = out.text();
  assert.doesNotMatch(text, /Allocated|Executing|Sequence/);
  assert.match(text, /Error executing local:debian-12:tests\/main\/hello \(h1\) : boom/);
  assert.match(text, /Aborted tasks: 1\n {4}- local:debian-12:tests\/main\/fail:v1 \(host h1 broke\)\n/);
  assert.match(text, /Failed tasks: 1\n/);
});

test("-vv on a Spread project: lines stay as the host printed them (Spread's checks grep them), control characters still spelled out", () => {
  const out = new Memory();
  const w = terminalWriter({ out, verbosity: 2, tty: false, color: false, timeZone: "utc", unprefixedOutput: true });
  w.handle(at(0, { type: "run-started", runId: "r", dir: "/tmp/r", seed: 1, jobs: 2, workers: 2 }));
  w.handle(at(0, { type: "job-started", job: JOB_A, hosts: ["h1"], seq: 1, total: 2 }));
  w.handle(at(0, { type: "job-started", job: JOB_B, hosts: ["h2"], seq: 2, total: 2 }));
  const line = (job: string, host: string, text: string) =>
    at(0, { type: "output", job, context: job, phase: "execute", host, stream: "stdout", line: text });
  w.handle(line(JOB_A, "h1", "WORKS ubuntu-16.04"));
  w.handle(line(JOB_B, "h2", "WORKS \x1b[2J"));
  w.flush();
  assert.match(out.text(), /^WORKS ubuntu-16\.04$/m);
  assert.match(out.text(), /^WORKS \^\[\[2J$/m);
});
