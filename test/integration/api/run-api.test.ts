// Issue 12: the library's run() as a caller embedding troupe sees it. It
// installs no process-wide signal handler when given its own signal, prints
// nothing with `out: null`, closes its drivers on every path, and gives
// each job's reason and duration.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { test } from "node:test";
import { registerBackendType, run, type BackendDriver, type RunResult } from "../../../src/index.js";
import { createLocalDriver } from "../../../src/backends/local/index.js";
import { INTERRUPT_SIGNALS } from "../../../src/api/interrupt.js";
import { EventStream as Events } from "../../../src/report/events.js";
import { project } from "../cli/helpers.js";

const PROJECT = (backend: string, extra = ""): string =>
  `project: api\nbackends:\n  ${backend}:\n    type: ${backend === "local" ? "local" : backend}\n    systems: [sys]\n${extra}suites:\n  s/:\n    summary: s\n`;

function listeners(): number[] {
  return INTERRUPT_SIGNALS.map((s) => process.listenerCount(s));
}

test("with its own signal, run() adds no process signal handler; out: null prints nothing; the result has reasons and durations", () => {
  const dir = project({
    "troupe.yaml": PROJECT("local"),
    "s/ok/task.yaml": "summary: passes\nexecute: echo fine\n",
    "s/bad/task.yaml": "summary: fails\nexecute: |\n  echo about to fail\n  exit 7\n",
  });
  // In a process of its own, so that what it prints is all there is on its stdout and stderr.
  const index = new URL("../../../src/index.js", import.meta.url).href;
  const program = `
    const { run, EventStream } = await import(${JSON.stringify(index)});
    const counts = () => ["SIGINT", "SIGTERM", "SIGHUP"].map((s) => process.listenerCount(s));
    const before = counts();
    const during = [];
    const events = new EventStream();
    events.on((e) => { if (e.type === "job-started") during.push(counts()); });
    const result = await run({ cwd: ${JSON.stringify(dir)}, seed: 1, out: null, events, signal: new AbortController().signal });
    require("node:fs").writeFileSync(${JSON.stringify(dir + "/result.json")}, JSON.stringify({ before, during, result }));
  `;
  let r;
  let out: { before: number[]; during: number[][]; result: RunResult };
  try {
    r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { createRequire } from "node:module"; const require = createRequire(import.meta.url); ${program}`,
      ],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    out = JSON.parse(readFileSync(`${dir}/result.json`, "utf8")) as typeof out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(r.stdout, "", "nothing printed");
  assert.equal(r.stderr, "", "nothing printed");
  assert.ok(out.during.length > 0);
  for (const d of out.during) assert.deepEqual(d, out.before, "no SIGINT/SIGTERM/SIGHUP handler added");
  const { result } = out;
  assert.equal(result.exitCode, 1);
  const byName = new Map(result.jobs.map((j) => [j.name.replace(/^.*\//, ""), j]));
  assert.equal(byName.get("ok")?.status, "passed");
  assert.equal(byName.get("bad")?.status, "failed");
  assert.equal(byName.get("bad")?.reason, "execute failed: exit status 7");
  assert.ok((byName.get("bad")?.durationMs ?? -1) >= 0);
  assert.ok(result.durationMs > 0);
  assert.equal(result.interrupted, false);
});

test("without a signal, run() listens to SIGINT, SIGTERM and SIGHUP while it runs, and not after", async () => {
  const dir = project({ "troupe.yaml": PROJECT("local"), "s/ok/task.yaml": "summary: passes\nexecute: echo fine\n" });
  const before = listeners();
  const during: number[][] = [];
  const events = new Events();
  events.on((e) => {
    if (e.type === "job-started") during.push(listeners());
  });
  try {
    const r = await run({ cwd: dir, seed: 1, out: null, events });
    assert.equal(r.exitCode, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(
    during[0],
    before.map((n) => n + 1),
  );
  assert.deepEqual(listeners(), before);
});

test("when the run fails after its drivers were made, they are still closed", async () => {
  const closed: string[] = [];
  // A local backend that counts its closes: the engine never knows it is a test double.
  registerBackendType("counting", (backend, ctx) => {
    const inner: BackendDriver = createLocalDriver(backend, ctx);
    return { ...inner, type: "counting", close: async () => (closed.push(backend.name), inner.close?.()) };
  });
  // repack runs after the drivers are made and fails: packing the project throws.
  const dir = project({
    "troupe.yaml": PROJECT("counting", "repack: exit 9\n"),
    "s/ok/task.yaml": "summary: passes\nexecute: echo fine\n",
  });
  try {
    await assert.rejects(run({ cwd: dir, out: null, signal: new AbortController().signal }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(closed, ["counting"]);
});
