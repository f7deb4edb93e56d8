import { test } from "node:test";
import assert from "node:assert/strict";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLocalDriver } from "../../../src/backends/local/index.js";
import type { RunModes } from "../../../src/exec/index.js";
import type { Transport } from "../../../src/transport/transport.js";
import { runLocal, traceOf, tr, world, type Harness } from "./builders.js";

/** Local hosts whose interactive shells are recorded (with their script) instead of attached to a terminal. */
function recordingDriver(shells: string[]) {
  return (
    backend: Parameters<typeof createLocalDriver>[0],
    runDir: string,
    events: Parameters<typeof createLocalDriver>[1]["events"],
  ): BackendDriver => {
    const local = createLocalDriver(backend, { runDir, projectDir: "/nowhere", remotePath: "/remote/proj", events });
    return {
      type: local.type,
      async allocate(system, index): Promise<Host> {
        const host = await local.allocate(system, index);
        const inner = host.transport;
        const transport: Transport = {
          label: inner.label,
          exec: async (o) => {
            if (!o.interactive) return inner.exec(o);
            shells.push(o.script);
            // Run it for real with a scripted "user" who leaves a mark and exits.
            return inner.exec({
              ...o,
              interactive: false,
              stdin: 'echo "shell in $(pwd) for $SPREAD_JOB" >> "$SPREAD_PATH/../trace"\nexit\n',
            });
          },
          put: (s, d) => inner.put(s, d),
          get: (d, p) => inner.get(d, p),
          close: () => inner.close(),
        };
        return { ...host, transport };
      },
      discard: (h) => local.discard(h),
      close: () => local.close?.() ?? Promise.resolve(),
    };
  };
}

function spec(execute: string) {
  return world({
    project: { prepare: tr("project prepare"), restore: tr("project restore") },
    suites: [
      {
        name: "s/",
        prepare: tr("suite prepare"),
        restore: tr("suite restore"),
        tasks: [
          { name: "t", prepare: tr("prepare"), execute, restore: tr("restore") },
          { name: "u", execute: tr("u execute") },
        ],
      },
    ],
  });
}

async function runMode(modes: Partial<RunModes>, execute = tr("execute")): Promise<{ h: Harness; shells: string[]; trace: string[] }> {
  const shells: string[] = [];
  const { jobs } = spec(execute);
  const h = await runLocal(jobs, { modes, driver: recordingDriver(shells) });
  return { h, shells, trace: await traceOf(h.runDir, "sys-1") };
}

const shellLine = (task: string): RegExp => new RegExp(`^shell in .*/hosts/sys-1/project/s/${task} for local:sys:s/${task}$`);

test("shell: a shell instead of each execute script, in the task's directory with its environment; the task passes", async () => {
  const { h, shells, trace } = await runMode({ shell: true });
  assert.equal(shells.length, 2);
  assert.deepEqual(trace.slice(0, 3), ["project prepare", "suite prepare", "prepare"]);
  assert.match(trace[3]!, shellLine("t"));
  assert.equal(trace[4], "restore");
  assert.ok(!trace.includes("execute") && !trace.includes("u execute"), "execute scripts did not run");
  assert.deepEqual(h.outcome.passed, ["local:sys:s/t", "local:sys:s/u"]);
});

test("shell-before and shell-after: a shell around each execute script", async () => {
  const before = await runMode({ shellBefore: true });
  assert.match(before.trace[3]!, shellLine("t"));
  assert.equal(before.trace[4], "execute");
  const after = await runMode({ shellAfter: true });
  assert.equal(after.trace[3], "execute");
  assert.match(after.trace[4]!, shellLine("t"));
  assert.equal(after.trace[5], "restore");
});

test("debug: a shell at the point of failure only", async () => {
  const failing = await runMode({ debug: true }, `${tr("execute")}\nfalse`);
  assert.equal(failing.shells.length, 1);
  assert.deepEqual(
    failing.trace.slice(3, 6).map((l) => l.replace(/^shell in .*/, "shell")),
    ["execute", "shell", "restore"],
  );
  const passing = await runMode({ debug: true });
  assert.equal(passing.shells.length, 0);
});

test("abend: stop at the first failure without any restore; the rest is aborted", async () => {
  const { h, trace } = await runMode({ abend: true }, `${tr("execute")}\nfalse`);
  assert.deepEqual(trace, ["project prepare", "suite prepare", "prepare", "execute"]);
  assert.deepEqual(h.outcome.failed, ["local:sys:s/t"]);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/u"]);
  assert.deepEqual(
    h.of("host-discarded").map((e) => e.reason),
    ["abend"],
  );
});

test("restore: only restore scripts run, nothing is prepared or executed", async () => {
  const { h, trace } = await runMode({ restore: true });
  assert.deepEqual(trace, ["restore", "suite restore", "project restore"]);
  assert.deepEqual([h.outcome.passed, h.outcome.failed, h.outcome.aborted], [[], [], []]);
  assert.deepEqual(
    h.of("job-finished").map((e) => e.status),
    ["skipped", "skipped"],
  );
});
