import { test } from "node:test";
import assert from "node:assert/strict";
import { compareJobs, joinScripts, jobToJSON, planJobs, resolveSettings } from "../../../src/plan/index.js";
import { TroupeError } from "../../../src/util/errors.js";
import { buildProject, simpleProject } from "./builders.js";

test("jobs come in Spread's sorted order: by name, samples numerically", () => {
  const project = buildProject({
    backends: { qemu: { systems: ["ubuntu-16.04"] }, lxd: { systems: ["ubuntu-18.04", "debian-9"] } },
    suites: {
      "b/": { tasks: { x: {} } },
      "a/": { tasks: { z: { samples: 11 }, y: { environment: { "V/two,one": "" } } } },
    },
  });
  const names = planJobs(project).map((j) => j.name);
  const lxdDebianZ = Array.from({ length: 11 }, (_, i) => `lxd:debian-9:a/z#${i + 1}`);
  assert.deepEqual(names.slice(0, 14), ["lxd:debian-9:a/y:one", "lxd:debian-9:a/y:two", ...lxdDebianZ, "lxd:debian-9:b/x"]);
  assert.equal(names.length, 3 * 14);
  assert.deepEqual(names.slice(-1), ["qemu:ubuntu-16.04:b/x"]);
  assert.equal(names.indexOf("lxd:debian-9:a/z#10"), 11);
});

test("compareJobs orders samples of one task numerically and everything else by name", () => {
  const [b, s, t, t2] = [{}, {}, {}, {}] as const;
  const j = (name: string, sample: number, task: object = t) => ({ name, sample, backend: b, system: s, task }) as never;
  assert.ok(compareJobs(j("x#2", 2), j("x#10", 10)) < 0);
  assert.ok(compareJobs(j("x:a#2", 2), j("x:b#1", 1)) > 0);
  assert.ok(compareJobs(j("x:a", 1), j("x:b", 1)) < 0);
  assert.ok(compareJobs(j("a#2", 2, t2), j("b#10", 10)) < 0);
});

test("samples: N jobs named #1..#N; one sample has no suffix", () => {
  const jobs = planJobs(simpleProject({ t: { samples: 3 }, u: { samples: 1 } }));
  assert.deepEqual(
    jobs.map((j) => [j.name, j.sample]),
    [
      ["lxd:ubuntu-16.04:tests/t#1", 1],
      ["lxd:ubuntu-16.04:tests/t#2", 2],
      ["lxd:ubuntu-16.04:tests/t#3", 3],
      ["lxd:ubuntu-16.04:tests/u", 1],
    ],
  );
});

test("priority cascades task, suite, system, backend (then troupe's project); default 0", () => {
  const p = (levels: { task?: number; suite?: number; system?: number; backend?: number; project?: number }) =>
    planJobs(
      buildProject({
        ...(levels.project !== undefined ? { priority: levels.project } : {}),
        backends: {
          lxd: {
            ...(levels.backend !== undefined ? { priority: levels.backend } : {}),
            systems: { "ubuntu-16.04": levels.system !== undefined ? { priority: levels.system } : {} },
          },
        },
        suites: {
          "s/": {
            ...(levels.suite !== undefined ? { priority: levels.suite } : {}),
            tasks: { t: levels.task !== undefined ? { priority: levels.task } : {} },
          },
        },
      }),
    )[0]!.priority;
  assert.equal(p({}), 0);
  assert.equal(p({ project: 7 }), 7);
  assert.equal(p({ project: 7, backend: 1 }), 1);
  assert.equal(p({ backend: 1, system: -5 }), -5);
  assert.equal(p({ backend: 1, system: -5, suite: 0 }), 0);
  assert.equal(p({ backend: 1, system: -5, suite: 0, task: 100 }), 100);
});

test("timeouts per level: the nearest set value wins, Spread's defaults otherwise, -1 means never", () => {
  const [job] = planJobs(
    buildProject({
      warnTimeout: 60_000,
      backends: { lxd: { killTimeout: 120_000, systems: ["ubuntu-16.04"] } },
      suites: { "s/": { warnTimeout: 30_000, tasks: { t: { killTimeout: -1 } } } },
    }),
  );
  assert.deepEqual(job!.timeouts, {
    project: { warn: 60_000, kill: 900_000 },
    backend: { warn: 60_000, kill: 120_000 },
    suite: { warn: 30_000, kill: 120_000 },
    task: { warn: 30_000, kill: -1 },
  });
  const [plain] = planJobs(simpleProject({ t: {} }));
  for (const level of ["project", "backend", "suite", "task"] as const) {
    assert.deepEqual(plain!.timeouts[level], { warn: 300_000, kill: 900_000 });
  }
});

test("scripts are joined as Spread joins them", () => {
  assert.equal(joinScripts("a", "", undefined, "b\nc"), "(\na\n)\n\n(\nb\nc\n)");
  assert.equal(joinScripts(), "");
  const [job] = planJobs(
    buildProject({
      prepareEach: "P",
      restoreEach: "PR",
      debugEach: "PD",
      backends: { lxd: { prepareEach: "B", restoreEach: "BR", systems: ["ubuntu-16.04"] } },
      suites: {
        "s/": {
          prepareEach: "S",
          debugEach: "SD",
          tasks: { t: { prepare: "T", execute: "run", restore: "TR", debug: "TD" } },
        },
      },
    }),
  );
  assert.deepEqual(job!.scripts, {
    prepare: "(\nP\n)\n\n(\nB\n)\n\n(\nS\n)\n\n(\nT\n)",
    execute: "run",
    restore: "(\nTR\n)\n\n(\nBR\n)\n\n(\nPR\n)",
    debug: "(\nTD\n)\n\n(\nSD\n)\n\n(\nPD\n)",
  });
});

test("backends of any type are planned: planning never checks types", () => {
  const types = ["lxd", "qemu", "google", "linode", "openstack", "humbox", "adhoc", "whatever"];
  const project = buildProject({
    backends: Object.fromEntries(types.map((t) => [`b-${t}`, { type: t, systems: ["ubuntu-16.04"] }])),
    suites: { "s/": { tasks: { t: {} } } },
  });
  assert.deepEqual(
    planJobs(project).map((j) => j.backend.type),
    [...types].sort(),
  );
});

test("multi-host: hosts are carried on the job, and too many hosts for the system's workers is E_PROJECT at hosts", () => {
  const project = (workers: number, roles: { name: string; count?: number; system?: string }[]) =>
    buildProject({
      backends: { lxd: { systems: { "ubuntu-16.04": { workers }, "debian-9": { workers: 1 } } } },
      suites: { "s/": { systems: ["ubuntu-16.04"], tasks: { net: { hosts: roles } } } },
    });
  const ok = project(3, [{ name: "server" }, { name: "client", count: 2 }]);
  const [job] = planJobs(ok);
  assert.deepEqual(
    job!.hosts?.map((h) => [h.name, h.count]),
    [
      ["server", 1],
      ["client", 2],
    ],
  );
  const bad = project(2, [{ name: "server" }, { name: "client", count: 2 }]);
  assert.throws(
    () => planJobs(bad),
    (e: unknown) => {
      assert.ok(e instanceof TroupeError);
      assert.equal(e.code, "E_PROJECT");
      assert.equal(e.problems[0]!.pos, bad.suites[0]!.tasks[0]!.where["hosts"]);
      assert.match(e.message, /needs 3 hosts of lxd:ubuntu-16\.04 .*workers: 2/);
      return true;
    },
  );
  // Roles on another system count against that system.
  assert.equal(planJobs(project(2, [{ name: "server" }, { name: "client", count: 1, system: "debian-9" }])).length, 1);
  assert.throws(() => planJobs(project(9, [{ name: "client", count: 2, system: "lxd:debian-9" }])), /needs 2 hosts of lxd:debian-9/);
  const unknown = project(9, [{ name: "client", system: "nope" }]);
  assert.throws(
    () => planJobs(unknown),
    (e: unknown) => e instanceof TroupeError && e.problems[0]!.pos === unknown.suites[0]!.tasks[0]!.hosts![0]!.pos,
  );
  // Single-host jobs have no hosts field.
  assert.equal(planJobs(simpleProject({ t: {} }))[0]!.hosts, undefined);
});

test("jobToJSON exposes the plan as plain JSON", () => {
  const project = buildProject({
    prepare: "pp",
    restoreEach: "pre",
    environment: { A: "1" },
    backends: { lxd: { prepare: "bp", systems: ["ubuntu-16.04"] } },
    suites: {
      "s/": { restore: "sr", tasks: { t: { environment: { "V/x": "2" }, execute: "ex", priority: 3, hosts: [{ name: "server" }] } } },
    },
  });
  const [job] = planJobs(project);
  const json = JSON.parse(JSON.stringify(jobToJSON(job!))) as ReturnType<typeof jobToJSON>;
  assert.equal(json.name, "lxd:ubuntu-16.04:s/t:x");
  assert.deepEqual(
    [json.backend, json.backendType, json.system, json.suite, json.task, json.variant, json.sample, json.priority],
    ["lxd", "lxd", "ubuntu-16.04", "s/", "s/t", "x", 1, 3],
  );
  assert.deepEqual(json.environment.slice(-2), [
    { key: "A", value: "1" },
    { key: "V", value: "2" },
  ]);
  assert.deepEqual(json.scripts, {
    project: { prepare: "pp", restore: "", debug: "" },
    backend: { prepare: "bp", restore: "", debug: "" },
    suite: { prepare: "", restore: "sr", debug: "" },
    job: { prepare: "", execute: "ex", restore: "(\npre\n)", debug: "" },
  });
  assert.deepEqual(json.timeouts.task, { warn: 300_000, kill: 900_000 });
  assert.deepEqual(json.hosts, [{ role: "server", count: 1 }]);
});

test("resolveSettings: project env with SPREAD_BACKENDS, backend key, usernames, passwords, lists", () => {
  const project = buildProject({
    environment: { USER_NAME: "$(HOST:whoami)", PASS: "s3cr3t", "VAR/x": "dropped", INC: "src" },
    include: ["$INC/*", "README"],
    backends: {
      lxd: { key: "$(HOST:cat key)\n", environment: { PREFIX: "ci-" }, systems: ["ubuntu-16.04"] },
      google: { systems: ["ubuntu-16.04"] },
    },
    suites: { "s/": { tasks: { t: {} } } },
  });
  const lxd = project.backends.find((b) => b.name === "lxd")!;
  const sys = { ...lxd.systems[0]!, username: "${PREFIX}$USER_NAME", password: "$PASS" };
  const other = { ...lxd.systems[0]!, name: "other", password: "a$PASS" };
  const p2 = { ...project, backends: project.backends.map((b) => (b === lxd ? { ...lxd, systems: [sys, other] } : b)) };
  const calls: string[] = [];
  const hostCommand = (cmd: string) => {
    calls.push(cmd);
    return cmd === "whoami" ? "alice\n" : "KEY";
  };
  const jobs = planJobs(p2, { filters: ["lxd"], hostCommand });
  const s = resolveSettings(p2, jobs, { hostCommand });
  assert.deepEqual(s.environment, [
    { key: "USER_NAME", value: "alice" },
    { key: "PASS", value: "s3cr3t" },
    { key: "INC", value: "src" },
    { key: "SPREAD_BACKENDS", value: "lxd" },
  ]);
  assert.equal(s.backends["lxd"]!.key, "KEY");
  assert.equal(s.backends["google"]!.key, "");
  assert.deepEqual(s.systems["lxd:ubuntu-16.04"], { username: "ci-alice", password: "s3cr3t" });
  assert.deepEqual(s.systems["lxd:other"], { password: "a$PASS" });
  assert.deepEqual(s.include, ["src/*", "README"]);
  assert.equal(s.remotePath, "/home/test");
  assert.deepEqual([...new Set(calls)].sort(), ["cat key", "whoami"]);
});
