import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { renderStatus } from "../../../src/report/status-block.js";
import { makeColors, shouldColor } from "../../../src/report/colors.js";
import { at, JOB_A, Memory, T0, terminalWriter } from "./helpers.js";

const ERASE = /\x1b\[(\d+)A\r\x1b\[J/;

test("TTY: log lines scroll above a status block redrawn in place, at most every 100 ms", () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  try {
    let now = T0;
    const out = new Memory();
    const w = terminalWriter({ out, verbosity: 0, tty: true, color: false, timeZone: "utc", now: () => now, columns: 100, rows: 30 });
    w.handle(at(0, { type: "host-allocated", host: "local-1", backend: "local", system: "debian-12", address: "127.0.0.1" }));
    w.handle(at(0, { type: "job-started", job: JOB_A, hosts: ["local-1"], seq: 1, total: 3 }));
    w.handle(at(0, { type: "hook-started", job: JOB_A, context: JOB_A, level: "task", phase: "execute", host: "local-1" }));
    assert.equal(out.chunks.length, 0, "nothing is written until the redraw timer fires");
    mock.timers.tick(1);
    assert.equal(out.chunks.length, 1, "queued lines and the block go out in one write");
    const first = out.chunks[0]!;
    assert.doesNotMatch(first, ERASE, "nothing to erase the first time");
    const lines = first.split("\n");
    assert.equal(lines[0], "2016-06-02 12:34:56 Allocated local:debian-12 (local-1) at 127.0.0.1.");
    assert.equal(lines[1], "2016-06-02 12:34:56 Executing local:debian-12:tests/main/hello (local-1) (1/3)...");
    assert.equal(lines[2], "troupe: 0/3 jobs done, 1 busy, 3 left");
    assert.match(lines[3]!, /^ {2}local-1 {2}executing {5}0s {2}local:debian-12:tests\/main\/hello$/);
    assert.equal(lines[4], "");

    // A burst of events within the 100 ms window is drawn once, when the window ends.
    now += 40;
    mock.timers.tick(40);
    w.handle(
      at(40, {
        type: "hook-finished",
        job: JOB_A,
        context: JOB_A,
        level: "task",
        phase: "execute",
        host: "local-1",
        exitCode: 1,
        durationMs: 40,
        output: "bad",
      }),
    );
    w.handle(at(40, { type: "message", level: "info", text: "one" }));
    w.handle(at(40, { type: "message", level: "info", text: "two" }));
    mock.timers.tick(59);
    assert.equal(out.chunks.length, 1, "no redraw before 100 ms have passed");
    now += 60;
    mock.timers.tick(1);
    assert.equal(out.chunks.length, 2);
    const second = out.chunks[1]!;
    assert.equal(ERASE.exec(second)?.[1], "2", "the old block (2 lines) is erased first");
    const after = second.replace(ERASE, "").split("\n");
    assert.equal(after[0], "2016-06-02 12:34:56 Error executing local:debian-12:tests/main/hello (local-1) : bad");
    assert.equal(after[1], "2016-06-02 12:34:56 one");
    assert.equal(after[2], "2016-06-02 12:34:56 two");
    assert.match(after[4]!, /local-1 {2}- /, "between scripts the host shows no phase");

    // Elapsed times refresh once a second even without events.
    now += 65_000;
    mock.timers.tick(1000);
    assert.equal(out.chunks.length, 3);
    assert.match(out.chunks[2]!, /1m05s/);

    // Closing erases the block and leaves the screen clean.
    w.handle(at(70_000, { type: "job-finished", job: JOB_A, status: "failed", durationMs: 70_000 }));
    w.close();
    const last = out.chunks[out.chunks.length - 1]!;
    assert.match(last, ERASE);
    assert.doesNotMatch(last.replace(ERASE, ""), /troupe:/);
    // Every write ends a line (or only erases the block, leaving the cursor at a line start).
    for (const c of out.chunks) assert.ok(c.endsWith("\n") || c.replace(ERASE, "") === "", JSON.stringify(c));
    // Nothing is scheduled after close.
    const count = out.chunks.length;
    mock.timers.tick(5000);
    assert.equal(out.chunks.length, count);
  } finally {
    mock.timers.reset();
  }
});

test("status lines never wrap: cut to the terminal width; extra hosts summed up", () => {
  const busy = Array.from({ length: 8 }, (_, i) => ({
    host: `host-${i}`,
    job: `local:debian-12:tests/main/a-very-long-task-name-that-goes-on-and-on-${i}`,
    phase: "executing",
    since: T0,
  }));
  const lines = renderStatus({
    counts: { total: 10, done: 2, failed: 1, aborted: 0, started: 10 },
    busy,
    now: T0 + 3000,
    columns: 50,
    maxRows: 4,
    colors: makeColors(false),
  });
  assert.equal(lines[0], "troupe: 2/10 jobs done, 1 failed, 8 busy, 8 left");
  assert.equal(lines.length, 1 + 3 + 1);
  for (const l of lines) assert.ok(l.length <= 49, `${l.length}: ${l}`);
  assert.ok(lines[1]!.endsWith("…"));
  assert.match(lines[1]!, /host-0 {2}executing {5}3s/);
  assert.equal(lines[4], "  ... and 5 more hosts");
});

test("shouldColor honours --no-color, NO_COLOR, TERM=dumb and FORCE_COLOR", () => {
  assert.equal(shouldColor({ tty: true, env: {} }), true);
  assert.equal(shouldColor({ tty: false, env: {} }), false);
  assert.equal(shouldColor({ tty: true, noColorFlag: true, env: {} }), false);
  assert.equal(shouldColor({ tty: true, env: { NO_COLOR: "1" } }), false);
  assert.equal(shouldColor({ tty: true, env: { NO_COLOR: "" } }), true);
  assert.equal(shouldColor({ tty: true, env: { TERM: "dumb" } }), false);
  assert.equal(shouldColor({ tty: false, env: { FORCE_COLOR: "1" } }), true);
  assert.equal(shouldColor({ tty: false, env: { FORCE_COLOR: "0" } }), false);
  assert.equal(shouldColor({ tty: true, noColorFlag: true, env: { FORCE_COLOR: "1" } }), false);
});
