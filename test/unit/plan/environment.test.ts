import { test } from "node:test";
import assert from "node:assert/strict";
import { planJobs } from "../../../src/plan/index.js";
import { OrderedEnv } from "../../../src/plan/environment.js";
import type { Job } from "../../../src/model/job.js";
import { TroupeError } from "../../../src/util/errors.js";
import { buildProject, simpleProject } from "./builders.js";

/** The job's environment without the SPREAD_* variables, as [key, value] pairs. */
function userEnv(job: Job): [string, string][] {
  return job.environment.filter((e) => !e.key.startsWith("SPREAD_")).map((e) => [e.key, e.value]);
}

/** Evaluate an environment the way a shell would for the simple `$VAR` references these tests use. */
function shellEval(job: Job): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const { key, value } of job.environment) {
    vars[key] = value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => vars[name] ?? "");
  }
  return vars;
}

test("README variants example: three jobs printing Hello sanity!, Goodbye lunacy!, Hello world!", () => {
  const project = buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04"] } },
    suites: {
      "examples/": {
        environment: { "SUBJECT/foo": "sanity", "SUBJECT/bar": "lunacy" },
        tasks: {
          hello: {
            environment: { GREETING: "Hello", "GREETING/bar": "Goodbye", "SUBJECT/baz": "world" },
            execute: 'echo "$GREETING $SUBJECT!"',
          },
        },
      },
    },
  });
  const jobs = planJobs(project);
  assert.deepEqual(
    jobs.map((j) => j.name),
    ["lxd:ubuntu-16.04:examples/hello:bar", "lxd:ubuntu-16.04:examples/hello:baz", "lxd:ubuntu-16.04:examples/hello:foo"],
  );
  const printed = Object.fromEntries(
    jobs.map((j) => {
      const v = shellEval(j);
      return [j.variant, `${v["GREETING"]} ${v["SUBJECT"]}!`];
    }),
  );
  assert.deepEqual(printed, { foo: "Hello sanity!", bar: "Goodbye lunacy!", baz: "Hello world!" });
  // The variant key takes its own place in the order; the default and the other variants' keys are gone.
  assert.deepEqual(userEnv(jobs[0]!), [
    ["SUBJECT", "lunacy"],
    ["GREETING", "Goodbye"],
  ]);
  assert.deepEqual(userEnv(jobs[1]!), [
    ["GREETING", "Hello"],
    ["SUBJECT", "world"],
  ]);
  assert.deepEqual(userEnv(jobs[2]!), [
    ["SUBJECT", "sanity"],
    ["GREETING", "Hello"],
  ]);
});

test("README environment example: suite default, task value references it", () => {
  const project = buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04"] } },
    suites: {
      "examples/": {
        environment: { SUBJECT: "sanity" },
        tasks: { hello: { environment: { GREETING: "Hello $SUBJECT!" } } },
      },
    },
  });
  const [job] = planJobs(project);
  assert.deepEqual(userEnv(job!), [
    ["SUBJECT", "sanity"],
    ["GREETING", "Hello $SUBJECT!"],
  ]);
  assert.equal(shellEval(job!)["GREETING"], "Hello sanity!");
});

test("SPREAD_* variables come first, with Spread's values", () => {
  const project = simpleProject({ hello: { samples: 2, environment: { "X/a": "1" } } }, { name: "demo", path: "/home/demo/" });
  const job = planJobs(project)[1]!;
  assert.equal(job.name, "lxd:ubuntu-16.04:tests/hello:a#2");
  assert.deepEqual(job.environment.slice(0, 9), [
    { key: "SPREAD_JOB", value: "lxd:ubuntu-16.04:tests/hello:a#2" },
    { key: "SPREAD_PROJECT", value: "demo" },
    { key: "SPREAD_PATH", value: "/home/demo" },
    { key: "SPREAD_BACKEND", value: "lxd" },
    { key: "SPREAD_SYSTEM", value: "ubuntu-16.04" },
    { key: "SPREAD_SUITE", value: "tests/" },
    { key: "SPREAD_TASK", value: "tests/hello" },
    { key: "SPREAD_VARIANT", value: "a" },
    { key: "SPREAD_SAMPLE", value: "2" },
  ]);
  assert.deepEqual(userEnv(job), [["X", "1"]]);
});

test("cascade order is project, backend, system, suite, task; an override moves the key to its level", () => {
  const project = buildProject({
    environment: { A: "project", B: "project", C: "project" },
    backends: {
      lxd: {
        environment: { B: "backend", D: "backend" },
        systems: { "ubuntu-16.04": { environment: { C: "system", E: "system" } } },
      },
    },
    suites: {
      "tests/": {
        environment: { A: "suite", F: "suite" },
        tasks: { t: { environment: { B: "task", G: "task" } } },
      },
    },
  });
  const [job] = planJobs(project);
  assert.deepEqual(userEnv(job!), [
    ["D", "backend"],
    ["C", "system"],
    ["E", "system"],
    ["A", "suite"],
    ["F", "suite"],
    ["B", "task"],
    ["G", "task"],
  ]);
});

test("Spread's tests/envs: every level's plain, referencing and variant variables", () => {
  const project = buildProject({
    environment: { PROJECT_ONE: "project", PROJECT_ALL: "$PROJECT_ONE", "PROJECT_VAR/a,b": "project/a,b", "PROJECT_VAR/c": "project/c" },
    backends: {
      lxd: {
        environment: {
          BACKEND_ONE: "backend",
          BACKEND_ALL: "$PROJECT_ONE $BACKEND_ONE",
          "BACKEND_VAR/a,b": "backend/a,b",
          "BACKEND_VAR/c": "backend/c",
        },
        systems: {
          "ubuntu-16.04": {
            environment: {
              SYSTEM_ONE: "system",
              SYSTEM_ALL: "$PROJECT_ONE $BACKEND_ONE $SYSTEM_ONE",
              "SYSTEM_VAR/a,b": "system/a,b",
              "SYSTEM_VAR/c": "system/c",
            },
          },
        },
      },
    },
    suites: {
      "checks/": {
        environment: {
          SUITE_ONE: "suite",
          SUITE_ALL: "$PROJECT_ONE $BACKEND_ONE $SYSTEM_ONE $SUITE_ONE",
          "SUITE_VAR/a,b": "suite/a,b",
          "SUITE_VAR/c": "suite/c",
        },
        tasks: {
          main: {
            environment: {
              TASK_ONE: "task",
              TASK_ALL: "$PROJECT_ONE $BACKEND_ONE $SYSTEM_ONE $SUITE_ONE $TASK_ONE",
              "TASK_VAR/a,b": "task/a,b",
              "TASK_VAR/c": "task/c",
            },
          },
        },
      },
    },
  });
  const jobs = planJobs(project);
  assert.deepEqual(
    jobs.map((j) => j.variant),
    ["a", "b", "c"],
  );
  for (const job of jobs) {
    const v = shellEval(job);
    const variant = job.variant === "c" ? "c" : "a,b";
    for (const level of ["project", "backend", "system", "suite", "task"]) {
      const L = level.toUpperCase();
      assert.equal(v[`${L}_ONE`], level);
      assert.equal(v[`${L}_VAR`], `${level}/${variant}`, `${job.name} ${L}_VAR`);
    }
    assert.equal(v["PROJECT_ALL"], "project");
    assert.equal(v["BACKEND_ALL"], "project backend");
    assert.equal(v["SYSTEM_ALL"], "project backend system");
    assert.equal(v["SUITE_ALL"], "project backend system suite");
    assert.equal(v["TASK_ALL"], "project backend system suite task");
  }
});

test("a more specific level's variant key beats a less specific one for the same variable", () => {
  const project = simpleProject({ t: { environment: { "X/a,b": "task" } } }, { environment: { X: "default", "X/a": "project" } });
  const jobs = planJobs(project);
  assert.deepEqual(
    jobs.map((j) => [j.variant, userEnv(j)]),
    [
      ["a", [["X", "task"]]],
      ["b", [["X", "task"]]],
    ],
  );
});

test("a bare key after the variant key at a later level still yields to the variant value", () => {
  // Spread keeps `X/a` and `X` as different keys until the variant is chosen; the variant wins.
  const project = simpleProject({ t: { environment: { X: "task-default" } } }, { environment: { "X/a": "project-a" } });
  const [job] = planJobs(project);
  assert.equal(job!.variant, "a");
  assert.deepEqual(userEnv(job!), [["X", "project-a"]]);
});

test("OrderedEnv follows Spread's Set, Unset and Replace", () => {
  const e = OrderedEnv.of([
    ["A", "1"],
    ["B", "2"],
    ["C", "3"],
  ]);
  e.set("A", "4");
  assert.deepEqual(e.keys(), ["B", "C", "A"]);
  e.replace("B", "C", "5");
  assert.deepEqual(e.entries(), [
    { key: "C", value: "5" },
    { key: "A", value: "4" },
  ]);
  e.replace("missing", "D", "6");
  e.replace("missing", "A", "7");
  assert.deepEqual(e.entries(), [
    { key: "C", value: "5" },
    { key: "A", value: "7" },
    { key: "D", value: "6" },
  ]);
  e.unset("C");
  assert.deepEqual(e.keys(), ["A", "D"]);
});

test("$(HOST:cmd) runs once per distinct command and is replaced, trailing newlines trimmed; other $(...) stay", () => {
  const calls: string[] = [];
  const project = buildProject({
    environment: { KEY: "$(HOST:cat key)", LATER: "$(date)" },
    backends: {
      lxd: {
        environment: { AGAIN: "x-$(HOST:cat key)-$(HOST:echo two)" },
        systems: ["ubuntu-16.04", "ubuntu-18.04"],
      },
    },
    suites: { "tests/": { tasks: { a: {}, b: { environment: { "V/x,y": "$(HOST:echo two)" } } } } },
  });
  const jobs = planJobs(project, {
    hostCommand: (cmd) => {
      calls.push(cmd);
      return cmd === "cat key" ? "secret\n\n" : "2\n";
    },
  });
  assert.equal(jobs.length, 6);
  assert.deepEqual(calls.sort(), ["cat key", "echo two"]);
  for (const job of jobs) {
    const v = Object.fromEntries(job.environment.map((e) => [e.key, e.value]));
    assert.equal(v["KEY"], "secret");
    assert.equal(v["LATER"], "$(date)");
    assert.equal(v["AGAIN"], "x-secret-2");
    if (job.task.name === "tests/b") assert.equal(v["V"], "2");
  }
});

test("$(HOST:cmd) outputs can be shared across plans through hostCache", () => {
  const cache = new Map<string, string>();
  let calls = 0;
  const project = simpleProject({ t: { environment: { A: "$(HOST:x)" } } });
  const hostCommand = () => {
    calls++;
    return "v";
  };
  planJobs(project, { hostCommand, hostCache: cache });
  planJobs(project, { hostCommand, hostCache: cache });
  assert.equal(calls, 1);
  assert.equal(cache.get("x"), "v");
});

test("a failing $(HOST:cmd) is an E_PROJECT error pointing at the entry", () => {
  const project = simpleProject({ t: { environment: { A: "$(HOST:false)" } } });
  assert.throws(
    () =>
      planJobs(project, {
        hostCommand: () => {
          throw new Error("exit status 1");
        },
      }),
    (e: unknown) => {
      assert.ok(e instanceof TroupeError);
      assert.equal(e.code, "E_PROJECT");
      assert.equal(e.problems[0]!.pos?.file, "/proj/tests/t/task.yaml");
      assert.match(e.message, /\$\(HOST:false\) in task tests\/t environment returned error: exit status 1/);
      return true;
    },
  );
});

test("$(HOST:cmd) without a runner is an error, not a silent pass-through", () => {
  const project = simpleProject({ t: { environment: { A: "$(HOST:true)" } } });
  assert.throws(() => planJobs(project), { code: "E_PROJECT" });
});

test("$(HOST:cmd) in the remote path is evaluated and the path cleaned", () => {
  const project = simpleProject({ t: {} }, { path: "/home/$(HOST:echo me)//x/" });
  const [job] = planJobs(project, { hostCommand: () => "me" });
  assert.equal(job!.environment.find((e) => e.key === "SPREAD_PATH")?.value, "/home/me/x");
});

test("a remote path that is / or relative is refused", () => {
  assert.throws(() => planJobs(simpleProject({ t: {} }, { path: "/" })), { code: "E_PROJECT" });
  assert.throws(() => planJobs(simpleProject({ t: {} }, { path: "rel/dir" })), { code: "E_PROJECT" });
});
