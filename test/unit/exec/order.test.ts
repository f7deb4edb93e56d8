import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { runLocal, traceOf, tr, world, type WorldSpec } from "./builders.js";

function levelHooks(label: string): { prepare: string; restore: string; prepareEach: string; restoreEach: string } {
  return {
    prepare: tr(`${label} prepare`),
    restore: tr(`${label} restore`),
    prepareEach: tr(`${label} prepare-each`),
    restoreEach: tr(`${label} restore-each`),
  };
}

function task(name: string, suite: string): { name: string; prepare: string; execute: string; restore: string } {
  const t = `${suite}${name}`;
  return { name, prepare: tr(`${t} prepare`), execute: tr(`${t} execute`), restore: tr(`${t} restore`) };
}

function spec(workers: number): WorldSpec {
  return {
    project: levelHooks("project"),
    backend: levelHooks("backend"),
    systems: [{ name: "sys", workers }],
    suites: [
      { name: "s1/", ...levelHooks("s1/"), tasks: [task("a", "s1/"), task("b", "s1/")] },
      { name: "s2/", ...levelHooks("s2/"), tasks: [task("c", "s2/"), task("d", "s2/")] },
    ],
  };
}

/** Spread's order (README, "Preparing and restoring") for the tasks one worker ran, in order. */
function expected(tasks: readonly string[]): string[] {
  const out = ["project prepare", "backend prepare"];
  let suite: string | undefined;
  for (const t of tasks) {
    const s = t.slice(0, t.indexOf("/") + 1);
    if (s !== suite) {
      if (suite) out.push(`${suite} restore`);
      out.push(`${s} prepare`);
      suite = s;
    }
    out.push(
      "project prepare-each",
      "backend prepare-each",
      `${s} prepare-each`,
      `${t} prepare`,
      `${t} execute`,
      `${t} restore`,
      `${s} restore-each`,
      "backend restore-each",
      "project restore-each",
    );
  }
  if (suite) out.push(`${suite} restore`);
  out.push("backend restore", "project restore");
  return out;
}

test("one worker runs hooks in Spread's order for two suites of two tasks", async () => {
  const { jobs } = world(spec(1));
  const h = await runLocal(jobs);
  assert.equal(h.outcome.success, true, JSON.stringify(h.outcome));
  assert.deepEqual(h.outcome.passed, ["local:sys:s1/a", "local:sys:s1/b", "local:sys:s2/c", "local:sys:s2/d"]);
  const hosts = h.of("host-allocated").map((e) => e.host);
  assert.deepEqual(hosts, ["sys-1"]);
  assert.deepEqual(await traceOf(h.runDir, "sys-1"), expected(["s1/a", "s1/b", "s2/c", "s2/d"]));

  const started = h.of("job-started");
  assert.deepEqual(
    started.map((e) => [e.job, e.seq, e.total, e.hosts]),
    [
      ["local:sys:s1/a", 1, 4, ["sys-1"]],
      ["local:sys:s1/b", 2, 4, ["sys-1"]],
      ["local:sys:s2/c", 3, 4, ["sys-1"]],
      ["local:sys:s2/d", 4, 4, ["sys-1"]],
    ],
  );
  // Events come in a sensible order: run-started first, run-finished last, discard after the last hook.
  assert.equal(h.events[0]?.type, "run-started");
  assert.equal(h.events.at(-1)?.type, "run-finished");
  const types = h.events.map((e) => e.type);
  assert.ok(types.lastIndexOf("hook-finished") < types.indexOf("host-discarded"));
  const finished = h.of("run-finished")[0]!;
  assert.deepEqual(finished.passed, h.outcome.passed);
  assert.deepEqual([finished.failed, finished.aborted, finished.failedHooks], [[], [], []]);
});

test("two workers: each host follows Spread's order for the jobs it took, and the suites are spread over them", async () => {
  const both = spec(2);
  // Each worker's project prepare waits until the other one is up too: on a
  // busy machine one worker could otherwise run all four jobs before the
  // second is allocated.
  const waitForBoth = `until [ "$(ls "$SPREAD_PATH"/../../*/trace 2>/dev/null | wc -l)" -ge 2 ]; do sleep 0.01; done`;
  const { jobs } = world({ ...both, project: { ...both.project, prepare: `${both.project!.prepare!}\n${waitForBoth}` } });
  const h = await runLocal(jobs);
  assert.equal(h.outcome.success, true);
  const byHost = new Map<string, string[]>();
  for (const e of h.of("job-started")) {
    const host = e.hosts[0]!;
    byHost.set(host, [...(byHost.get(host) ?? []), e.job.replace("local:sys:", "")]);
  }
  assert.deepEqual([...byHost.keys()].sort(), ["sys-1", "sys-2"]);
  // The second worker prefers the suite with fewer workers in it: each host's first job is in another suite.
  const firstSuites = [...byHost.values()].map((tasks) => tasks[0]!.split("/")[0]);
  assert.notEqual(firstSuites[0], firstSuites[1]);
  assert.deepEqual([...byHost.values()].flat().sort(), ["s1/a", "s1/b", "s2/c", "s2/d"]);
  for (const [host, tasks] of byHost) assert.deepEqual(await traceOf(h.runDir, host), expected(tasks), host);
  assert.deepEqual(
    h.of("job-started").map((e) => e.seq),
    [1, 2, 3, 4],
  );
  // Two workers were started for four jobs, and both were discarded.
  assert.equal(h.of("run-started")[0]!.workers, 2);
  assert.deepEqual(
    h
      .of("host-discarded")
      .map((e) => e.host)
      .sort(),
    ["sys-1", "sys-2"],
  );
  // Local discards remove each host's copy of the project, but keep its directory.
  assert.deepEqual((await readdir(join(h.runDir, "hosts"))).sort(), ["sys-1", "sys-2"]);
});

test("a system never gets more workers than it has jobs", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 5 }],
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
  const h = await runLocal(jobs);
  assert.equal(h.of("run-started")[0]!.workers, 2);
  assert.equal(h.of("host-allocated").length, 2);
});

test("hooks run where Spread runs them, with SPREAD_* and TROUPE_* for the job and the host's copy", async () => {
  const show =
    'echo "$1 $(pwd) $SPREAD_JOB|$SPREAD_PROJECT|$SPREAD_BACKEND|$SPREAD_SYSTEM|$SPREAD_SUITE|$SPREAD_TASK|$SPREAD_VARIANT|$SPREAD_SAMPLE|$SPREAD_REBOOT|$SPREAD_PATH"';
  const both = (label: string): string =>
    `set -- ${label}\n${show}\n[ "$TROUPE_JOB|$TROUPE_PATH|$TROUPE_SYSTEM|$TROUPE_VARIANT" = "$SPREAD_JOB|$SPREAD_PATH|$SPREAD_SYSTEM|$SPREAD_VARIANT" ] || ERROR twins differ`;
  const { jobs } = world({
    project: { prepare: both("project") },
    backend: { prepare: both("backend") },
    suites: [{ name: "tests/main/", prepare: both("suite"), tasks: [{ name: "hello", execute: both("task"), variants: ["v1"] }] }],
  });
  const h = await runLocal(jobs);
  assert.equal(h.outcome.success, true, JSON.stringify(h.of("hook-finished").map((e) => e.output)));
  const copy = join(h.runDir, "hosts", "sys-1", "project");
  const line = (label: string): string | undefined =>
    h.of("output").find((e) => e.stream === "stdout" && e.line.startsWith(`${label} `))?.line;
  const vars = `local:sys:tests/main/hello:v1|proj|local|sys|tests/main/|tests/main/hello|v1|1|0|${copy}`;
  assert.equal(line("project"), `project ${copy} ${vars}`);
  assert.equal(line("backend"), `backend ${copy} ${vars}`);
  assert.equal(line("suite"), `suite ${copy}/tests/main/hello ${vars}`);
  assert.equal(line("task"), `task ${copy}/tests/main/hello ${vars}`);

  const hooks = h.of("hook-started").map((e) => [e.level, e.phase, e.job, e.context, e.host]);
  assert.deepEqual(hooks, [
    ["project", "prepare", "local:sys", "local:sys", "sys-1"],
    ["backend", "prepare", "local:sys", "local:sys", "sys-1"],
    ["suite", "prepare", "local:sys:tests/main/", "local:sys:tests/main/", "sys-1"],
    ["task", "execute", "local:sys:tests/main/hello:v1", "local:sys:tests/main/hello:v1", "sys-1"],
  ]);
});

test("the job's environment is evaluated in order on the host", async () => {
  const { jobs } = world({
    environment: [
      { key: "BASE", value: "$(echo base)" },
      { key: "DERIVED", value: "$BASE/derived-$SPREAD_SYSTEM" },
    ],
    suites: [{ name: "s/", tasks: [{ name: "t", execute: 'echo "got $DERIVED"' }] }],
  });
  const h = await runLocal(jobs);
  assert.ok(h.of("output").some((e) => e.line === "got base/derived-sys"));
});
