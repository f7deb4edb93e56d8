import { test } from "node:test";
import assert from "node:assert/strict";
import { planJobs } from "../../../src/plan/index.js";
import { globMatch } from "../../../src/plan/glob.js";
import { evalLists } from "../../../src/plan/lists.js";
import { TroupeError } from "../../../src/util/errors.js";
import { buildProject, simpleProject, type ProjectSpec } from "./builders.js";

const names = (p: Parameters<typeof planJobs>[0]) => planJobs(p).map((j) => j.name);
const variants = (p: Parameters<typeof planJobs>[0]) => planJobs(p).map((j) => j.variant);

// README "Blacklisting and whitelisting": the suite defines foo and bar, the task baz.
function readmeProject(taskVariants?: string[]): Parameters<typeof planJobs>[0] {
  return buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04"] } },
    suites: {
      "examples/": {
        environment: { "SUBJECT/foo": "sanity", "SUBJECT/bar": "lunacy" },
        tasks: { hello: { environment: { "SUBJECT/baz": "world" }, ...(taskVariants ? { variants: taskVariants } : {}) } },
      },
    },
  });
}

test("README variants lists: -bar removes, a plain list replaces, +buz adds", () => {
  assert.deepEqual(variants(readmeProject()), ["bar", "baz", "foo"]);
  assert.deepEqual(variants(readmeProject(["-bar"])), ["baz", "foo"]);
  assert.deepEqual(variants(readmeProject(["foo", "baz"])), ["baz", "foo"]);
  assert.deepEqual(variants(readmeProject(["+buz"])), ["bar", "baz", "buz", "foo"]);
});

test("a task without variant keys has no variant suffix", () => {
  assert.deepEqual(names(simpleProject({ t: {} })), ["lxd:ubuntu-16.04:tests/t"]);
});

test("variants lists work at project, backend, system, suite and task level, in that order", () => {
  const base = (
    over: Partial<ProjectSpec>,
    sys: Record<string, unknown> = {},
    suite: Record<string, unknown> = {},
    task: Record<string, unknown> = {},
  ) =>
    buildProject({
      environment: { "V/p1,p2": "x" },
      backends: { lxd: { environment: { "V/b1": "x" }, systems: { "ubuntu-16.04": { environment: { "V/y1": "x" }, ...sys } } } },
      suites: { "tests/": { environment: { "V/s1": "x" }, ...suite, tasks: { t: { environment: { "V/t1": "x" }, ...task } } } },
      ...over,
    });
  assert.deepEqual(variants(base({})), ["b1", "p1", "p2", "s1", "t1", "y1"]);
  // Project: a plain list replaces the project's own variants.
  assert.deepEqual(variants(base({ variants: ["p2"] })), ["b1", "p2", "s1", "t1", "y1"]);
  // Backend: delta.
  const b = buildProject({
    environment: { "V/p1,p2": "x" },
    backends: { lxd: { variants: ["-p1", "+extra"], systems: ["ubuntu-16.04"] } },
    suites: { "tests/": { tasks: { t: {} } } },
  });
  assert.deepEqual(variants(b), ["extra", "p2"]);
  // System: plain replaces everything the project and backend made.
  assert.deepEqual(variants(base({}, { variants: ["b1"] })), ["b1", "s1", "t1"]);
  // Suite: glob removal of the project's variants.
  assert.deepEqual(variants(base({}, {}, { variants: ["-p*"] })), ["b1", "s1", "t1", "y1"]);
  // Task: plain list is the last word.
  assert.deepEqual(variants(base({}, {}, {}, { variants: ["s1", "y1"] })), ["s1", "y1"]);
});

test("a plain list at a later level replaces only from its first item; -* then + rebuilds", () => {
  const p = readmeProject(["-*", "+foo"]);
  assert.deepEqual(variants(p), ["foo"]);
});

test("mixing plain and delta items in one variants list is E_PROJECT at that list", () => {
  for (const level of ["project", "backend", "system", "suite", "task"] as const) {
    const mixed = ["foo", "-bar"];
    const spec: ProjectSpec = {
      backends: {
        lxd: {
          systems: { "ubuntu-16.04": level === "system" ? { variants: mixed } : {} },
          ...(level === "backend" ? { variants: mixed } : {}),
        },
      },
      suites: {
        "tests/": { ...(level === "suite" ? { variants: mixed } : {}), tasks: { t: level === "task" ? { variants: mixed } : {} } },
      },
      ...(level === "project" ? { variants: mixed } : {}),
    };
    const project = buildProject(spec);
    const entity =
      level === "project"
        ? project
        : level === "backend"
          ? project.backends[0]!
          : level === "system"
            ? project.backends[0]!.systems[0]!
            : level === "suite"
              ? project.suites[0]!
              : project.suites[0]!.tasks[0]!;
    assert.throws(
      () => planJobs(project),
      (e: unknown) => {
        assert.ok(e instanceof TroupeError, level);
        assert.equal(e.code, "E_PROJECT");
        assert.deepEqual(e.problems[0]!.pos, entity.where["variants"], level);
        assert.match(e.message, /variants both in delta and plain format/);
        return true;
      },
    );
  }
});

test("systems lists at suite and task: replace, +x, -x and globs", () => {
  const project = (suiteSystems?: string[], taskSystems?: string[]) =>
    buildProject({
      backends: {
        lxd: { systems: ["ubuntu-14.04", "ubuntu-16.04", "debian-9"] },
        qemu: { systems: ["ubuntu-16.04", "fedora-30"] },
      },
      suites: {
        "tests/": {
          ...(suiteSystems ? { systems: suiteSystems } : {}),
          tasks: { t: taskSystems ? { systems: taskSystems } : {} },
        },
      },
    });
  const sys = (p: ReturnType<typeof project>) => planJobs(p).map((j) => `${j.backend.name}:${j.system.name}`);
  assert.deepEqual(sys(project()), ["lxd:debian-9", "lxd:ubuntu-14.04", "lxd:ubuntu-16.04", "qemu:fedora-30", "qemu:ubuntu-16.04"]);
  // README: systems: [-ubuntu-14.04]
  assert.deepEqual(sys(project(undefined, ["-ubuntu-14.04"])), ["lxd:debian-9", "lxd:ubuntu-16.04", "qemu:fedora-30", "qemu:ubuntu-16.04"]);
  // Plain list replaces; names of other backends' systems are ignored per backend.
  assert.deepEqual(sys(project(["ubuntu-16.04", "fedora-30"])), ["lxd:ubuntu-16.04", "qemu:fedora-30", "qemu:ubuntu-16.04"]);
  // Globs, at suite (plain) then task (delta).
  assert.deepEqual(sys(project(["ubuntu-*"])), ["lxd:ubuntu-14.04", "lxd:ubuntu-16.04", "qemu:ubuntu-16.04"]);
  assert.deepEqual(sys(project(["ubuntu-*"], ["-*-14.04", "+debian-?"])), ["lxd:debian-9", "lxd:ubuntu-16.04", "qemu:ubuntu-16.04"]);
  // A glob matching nothing in a backend leaves nothing there.
  assert.deepEqual(sys(project(["fedora-*"])), ["qemu:fedora-30"]);
});

test("backends lists at suite and task: replace, +x, -x and globs; unknown names are skipped", () => {
  const project = (suiteBackends?: string[], taskBackends?: string[]) =>
    buildProject({
      backends: {
        lxd: { systems: ["ubuntu-16.04"] },
        "lxd-nested": { type: "lxd", systems: ["ubuntu-16.04"] },
        google: { systems: ["ubuntu-16.04"] },
      },
      suites: {
        "tests/": { ...(suiteBackends ? { backends: suiteBackends } : {}), tasks: { t: taskBackends ? { backends: taskBackends } : {} } },
      },
    });
  const be = (p: ReturnType<typeof project>) => planJobs(p).map((j) => j.backend.name);
  // Job names sort byte-wise: "lxd-nested:" comes before "lxd:".
  assert.deepEqual(be(project()), ["google", "lxd-nested", "lxd"]);
  assert.deepEqual(be(project(["lxd*"])), ["lxd-nested", "lxd"]);
  assert.deepEqual(be(project(["lxd*"], ["-lxd-*"])), ["lxd"]);
  assert.deepEqual(be(project(undefined, ["-google"])), ["lxd-nested", "lxd"]);
  assert.deepEqual(be(project(["google"], ["+lxd"])), ["google", "lxd"]);
  assert.deepEqual(be(project(["google", "linode"])), ["google"]);
});

test("mixing plain and delta in systems or backends is E_PROJECT at that list", () => {
  const p = simpleProject({ t: { systems: ["ubuntu-16.04", "+debian-9"] } });
  assert.throws(
    () => planJobs(p),
    (e: unknown) =>
      e instanceof TroupeError &&
      e.code === "E_PROJECT" &&
      e.problems[0]!.pos === p.suites[0]!.tasks[0]!.where["systems"] &&
      /task tests\/t specifies systems both in delta and plain format/.test(e.message),
  );
  const q = buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04"] } },
    suites: { "tests/": { backends: ["-lxd", "lxd"], tasks: { t: {} } } },
  });
  assert.throws(
    () => planJobs(q),
    (e: unknown) => e instanceof TroupeError && e.problems[0]!.pos === q.suites[0]!.where["backends"],
  );
});

test("a malformed glob is E_PROJECT naming the pattern", () => {
  const p = simpleProject({ t: { systems: ["ubuntu-[16"] } });
  assert.throws(() => planJobs(p), /invalid pattern in systems: "ubuntu-\[16"/);
});

test("evalLists: delta at the first level is refused, as in Spread", () => {
  assert.throws(() => evalLists("systems", [{ items: ["+a"], context: "backend x" }]), /specifies systems in delta format/);
});

test("globMatch follows Go's filepath.Match", () => {
  const cases: [string, string, boolean][] = [
    ["ubuntu-*", "ubuntu-16.04", true],
    ["ubuntu-*", "debian-9", false],
    ["*", "", true],
    ["*", "a/b", false],
    ["ubuntu-1?.04", "ubuntu-16.04", true],
    ["ubuntu-1?.04", "ubuntu-1.04", false],
    ["[a-c]x", "bx", true],
    ["[^a-c]x", "bx", false],
    ["[^a-c]x", "dx", true],
    ["a\\*", "a*", true],
    ["a\\*", "ab", false],
    ["a.b", "axb", false],
    ["a+", "aa", false],
  ];
  for (const [pat, name, want] of cases) assert.equal(globMatch(pat, name), want, `${pat} ~ ${name}`);
  for (const bad of ["[", "a[", "[]", "[a-]", "a\\", "[z-a]"]) assert.throws(() => globMatch(bad, "x"), /syntax error/, bad);
});
