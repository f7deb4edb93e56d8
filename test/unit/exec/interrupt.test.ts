import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { isAlive, runLocal, traceOf, tr, world } from "./builders.js";

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 60 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !isAlive(pid);
}

const longExecute = 'sleep 30 &\necho $! > "$SPREAD_PATH/../pid"\necho ready\nwait';

test("first interrupt: running scripts are killed, restores run, hosts are discarded, nothing is left running", async () => {
  const { jobs } = world({
    project: { restore: tr("project restore") },
    suites: [
      {
        name: "s/",
        restore: tr("suite restore"),
        tasks: [
          { name: "long", execute: longExecute, restore: tr("task restore") },
          { name: "next", execute: tr("next") },
        ],
      },
    ],
  });
  const soft = new AbortController();
  const h = await runLocal(jobs, {
    signal: soft.signal,
    onEvent: (e) => {
      if (e.type === "output" && e.line === "ready") soft.abort();
    },
  });
  assert.equal(h.outcome.interrupted, true);
  assert.equal(h.outcome.success, false);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/long", "local:sys:s/next"]);
  assert.deepEqual(h.outcome.failed, []);
  assert.deepEqual(h.outcome.failedHooks, [], "an interrupted script is not a failed hook");
  const exec = h.of("hook-finished").find((e) => e.phase === "execute")!;
  assert.equal(exec.killedBy, "interrupt");
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), ["task restore", "suite restore", "project restore"]);
  assert.deepEqual(
    h.of("host-discarded").map((e) => [e.host, e.reason]),
    [["sys-1", "interrupted"]],
  );
  assert.equal(h.of("run-finished")[0]!.interrupted, true);
  const pid = Number((await readFile(`${h.runDir}/hosts/sys-1/pid`, "utf8")).trim());
  assert.equal(await gone(pid), true, "the script's background child is gone");
  assert.equal(h.of("job-started").length, 1, "nothing new is scheduled after the interrupt");
});

test("second interrupt: restores are killed and skipped, hosts are still discarded", async () => {
  const { jobs } = world({
    project: { restore: tr("project restore") },
    suites: [
      {
        name: "s/",
        tasks: [{ name: "long", execute: longExecute, restore: `${tr("task restore started")}\necho restoring\nsleep 30` }],
      },
    ],
  });
  const soft = new AbortController();
  const hard = new AbortController();
  const h = await runLocal(jobs, {
    signal: soft.signal,
    hardSignal: hard.signal,
    onEvent: (e) => {
      if (e.type === "output" && e.line === "ready") soft.abort();
      if (e.type === "output" && e.line === "restoring") hard.abort();
    },
  });
  assert.equal(h.outcome.interrupted, true);
  const restore = h.of("hook-finished").find((e) => e.phase === "restore")!;
  assert.equal(restore.killedBy, "interrupt");
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), ["task restore started"], "project restore was skipped");
  assert.deepEqual(
    h.of("host-discarded").map((e) => e.host),
    ["sys-1"],
  );
  assert.deepEqual(h.of("worker-broken"), [], "an interrupted restore does not count as broken");
});

test("interrupted before anything started: no host is allocated and every job is aborted", async () => {
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
  const soft = new AbortController();
  soft.abort();
  const h = await runLocal(jobs, { signal: soft.signal });
  assert.equal(h.outcome.interrupted, true);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/a", "local:sys:s/b"]);
  assert.equal(h.of("host-allocated").length, 0);
  assert.equal(h.of("run-finished").length, 1);
});

test("an interrupt during a multi-host job kills every host's script and restores on each", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 2 }],
    suites: [
      {
        name: "s/",
        tasks: [
          {
            name: "duo",
            hosts: [{ name: "n", count: 2 }],
            execute: 'echo "up $TROUPE_HOST"\nsleep 30',
            restore: tr("restore $TROUPE_HOST"),
          },
        ],
      },
    ],
  });
  const soft = new AbortController();
  let up = 0;
  const h = await runLocal(jobs, {
    signal: soft.signal,
    onEvent: (e) => {
      if (e.type === "output" && e.line.startsWith("up ") && ++up === 2) soft.abort();
    },
  });
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/duo"]);
  assert.deepEqual(
    h
      .of("hook-finished")
      .filter((e) => e.phase === "execute")
      .map((e) => e.killedBy),
    ["interrupt", "interrupt"],
  );
  const traces = [...(await traceOf(h.runDir, "sys-1")), ...(await traceOf(h.runDir, "sys-2"))].sort();
  assert.deepEqual(traces, ["restore n-1", "restore n-2"]);
  assert.equal(h.of("host-discarded").length, 2);
});
