import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPos } from "../../../src/model/position.js";
import type { Backend, Project, Suite, System, Task } from "../../../src/model/project.js";
import { fixture, load } from "./helpers.js";

function backend(p: Project, name: string): Backend {
  const b = p.backends.find((x) => x.name === name);
  assert.ok(b, `backend ${name}`);
  return b;
}
function system(b: Backend, name: string): System {
  const s = b.systems.find((x) => x.name === name);
  assert.ok(s, `system ${name}`);
  return s;
}
function suite(p: Project, name: string): Suite {
  const s = p.suites.find((x) => x.name === name);
  assert.ok(s, `suite ${name}`);
  return s;
}
function task(s: Suite, name: string): Task {
  const t = s.tasks.find((x) => x.name === name);
  assert.ok(t, `task ${name}`);
  return t;
}

describe("loadProject: a complete troupe.yaml", async () => {
  const { project: p, warnings } = await load("complete");

  it("reads the project level", () => {
    assert.deepEqual(warnings, []);
    assert.equal(p.name, "complete");
    assert.equal(p.flavour, "troupe");
    assert.equal(p.file, fixture("complete", "troupe.yaml"));
    assert.equal(p.dir, fixture("complete"));
    assert.equal(p.remotePath, "/srv/complete");
    assert.equal(p.reroot, ".");
    assert.equal(p.repack, "cat <&3 >&4");
    assert.deepEqual(p.include, ["src", "tests"]);
    assert.deepEqual(p.exclude, ["*.o"]);
    assert.deepEqual(p.rename, ["s,^,prefix/,"]);
    assert.equal(p.warnTimeout, 300_000);
    assert.equal(p.killTimeout, 5_400_000);
    assert.deepEqual(
      [p.prepare, p.restore, p.debug, p.prepareEach, p.restoreEach, p.debugEach],
      ["project-prepare", "project-restore", "project-debug", "project-prepare-each", "project-restore-each", "project-debug-each"].map(
        (s) => `echo ${s}`,
      ),
    );
    assert.equal(formatPos(p.pos), "troupe.yaml:1:1");
    assert.equal(formatPos(p.where["kill-timeout"]), "troupe.yaml:23:1");
  });

  it("keeps the environment in order, with positions and values as yaml.v2 gives them", () => {
    assert.deepEqual(
      p.environment.map((e) => [e.key, e.value, formatPos(e.pos)]),
      [
        ["GREETING", "hello", "troupe.yaml:6:3"],
        ["VERSION", "1.10", "troupe.yaml:7:3"],
        ["ENABLED", "yes", "troupe.yaml:8:3"],
        ["EMPTY", "", "troupe.yaml:9:3"],
        ["SUBJECT/alpha,beta", "world", "troupe.yaml:10:3"],
      ],
    );
  });

  it("reads a backend with every field; backend-specific ones go in extra", () => {
    const lab = backend(p, "lab");
    assert.equal(lab.type, "lab");
    assert.equal(lab.key, "secret");
    assert.deepEqual(lab.variants, ["+gamma"]);
    assert.equal(lab.warnTimeout, 30_000);
    assert.equal(lab.killTimeout, -1);
    assert.equal(lab.haltTimeout, 7_200_000);
    assert.equal(lab.priority, 10);
    assert.equal(lab.manual, false);
    assert.equal(lab.prepareEach, "echo backend-prepare-each");
    assert.equal(lab.debugEach, "echo backend-debug-each");
    assert.deepEqual(
      lab.environment.map((e) => [e.key, e.value]),
      [["LAB", "1"]],
    );
    assert.deepEqual(lab.extra, {
      memory: "4G",
      plan: "big",
      location: "here/there",
      storage: "20G",
      account: "acct",
      endpoint: "https://example.invalid/",
      networks: ["net1"],
      groups: ["grp1"],
    });
    assert.equal(formatPos(lab.pos), "troupe.yaml:26:3");
    assert.deepEqual(
      lab.systems.map((s) => s.name),
      ["ubuntu-24.04", "debian-12", "fedora-40"],
    );
  });

  it("reads systems in plain form with Spread's defaults", () => {
    const ubuntu = system(backend(p, "lab"), "ubuntu-24.04");
    assert.equal(ubuntu.backend, "lab");
    assert.equal(ubuntu.image, "ubuntu-24.04");
    assert.equal(ubuntu.workers, 1);
    assert.equal(formatPos(ubuntu.pos), "troupe.yaml:52:9");
    // Spread cascades storage, plan, networks and groups from the backend.
    assert.deepEqual(ubuntu.extra, { storage: "20G", plan: "big", networks: ["net1"], groups: ["grp1"] });
  });

  it("reads systems in map form with every field", () => {
    const debian = system(backend(p, "lab"), "debian-12");
    assert.equal(debian.image, "debian-bookworm");
    assert.equal(debian.workers, 3);
    assert.equal(debian.username, "root");
    assert.equal(debian.password, "secret");
    assert.deepEqual(
      debian.environment.map((e) => [e.key, e.value, formatPos(e.pos)]),
      [["SYS", "debian", "troupe.yaml:64:13"]],
    );
    assert.deepEqual(debian.variants, ["-beta"]);
    assert.equal(debian.priority, 5);
    assert.equal(debian.manual, true);
    assert.deepEqual(debian.extra, {
      kernel: "vmlinuz",
      storage: "preserve-size",
      bios: "uefi",
      "cpu-family": "Intel Skylake",
      "secure-boot": true,
      plan: "big",
      networks: ["net1"],
      groups: ["grp1"],
    });
    assert.equal(formatPos(debian.pos), "troupe.yaml:53:9");
    assert.equal(formatPos(debian.where["workers"]), "troupe.yaml:55:11");
    // workers: 0 means 1, as in Spread.
    assert.equal(system(backend(p, "lab"), "fedora-40").workers, 1);
  });

  it("reads an adhoc backend", () => {
    const cloud = backend(p, "cloud");
    assert.equal(cloud.type, "adhoc");
    assert.equal(cloud.allocate, "ADDRESS localhost");
    assert.equal(cloud.discard, "echo bye");
    assert.deepEqual(
      cloud.systems.map((s) => [s.name, s.image, s.workers]),
      [["ubuntu-22.04", "ubuntu-22.04", 1]],
    );
  });

  it("reads suites, nested ones too, in name order", () => {
    assert.deepEqual(
      p.suites.map((s) => s.name),
      ["more/nested/", "tests/"],
    );
    const tests = suite(p, "tests/");
    assert.equal(tests.dir, fixture("complete", "tests"));
    assert.equal(tests.summary, "the main suite");
    assert.deepEqual(tests.systems, ["-fedora-*"]);
    assert.deepEqual(tests.backends, ["lab"]);
    assert.deepEqual(tests.variants, ["alpha"]);
    assert.deepEqual(
      tests.environment.map((e) => e.key),
      ["SUITE"],
    );
    assert.equal(tests.prepare, "echo suite-prepare");
    assert.equal(tests.restoreEach, "echo suite-restore-each");
    assert.equal(tests.warnTimeout, 60_000);
    assert.equal(tests.killTimeout, 600_000);
    assert.equal(tests.priority, 3);
    assert.equal(tests.manual, false);
    assert.equal(formatPos(tests.pos), "troupe.yaml:77:3");
    assert.equal(suite(p, "more/nested/").dir, fixture("complete", "more", "nested"));
  });

  it("takes each subdirectory with a task.yaml as a task, skipping files and directories without one", () => {
    assert.deepEqual(
      suite(p, "tests/").tasks.map((t) => t.name),
      ["tests/hello", "tests/netperf"],
    );
    assert.deepEqual(
      suite(p, "more/nested/").tasks.map((t) => t.name),
      ["more/nested/only"],
    );
    assert.equal(task(suite(p, "more/nested/"), "more/nested/only").summary, "a task written in JSON");
  });

  it("reads a task with every Spread field", () => {
    const hello = task(suite(p, "tests/"), "tests/hello");
    assert.equal(hello.suite, "tests/");
    assert.equal(hello.dir, fixture("complete", "tests", "hello"));
    assert.equal(hello.summary, "says hello");
    assert.equal(hello.details, "A longer description.");
    assert.deepEqual(hello.systems, ["ubuntu-*"]);
    assert.deepEqual(hello.backends, ["-cloud"]);
    assert.deepEqual(hello.variants, ["-beta"]);
    assert.deepEqual(
      hello.environment.map((e) => [e.key, e.value, formatPos(e.pos)]),
      [
        ["NAME", "task", "tests/hello/task.yaml:8:3"],
        ["COUNT", "3", "tests/hello/task.yaml:9:3"],
      ],
    );
    assert.equal(hello.samples, 2);
    assert.equal(hello.prepare, "echo task-prepare"); // trimmed
    assert.equal(hello.execute, 'echo "$GREETING $NAME"');
    assert.equal(hello.restore, "echo task-restore");
    assert.equal(hello.debug, "echo task-debug");
    assert.deepEqual(hello.artifacts, ["out/report.txt", "logs"]);
    assert.equal(hello.warnTimeout, 500);
    assert.equal(hello.killTimeout, 0);
    assert.equal(hello.priority, 7);
    assert.equal(hello.manual, true);
    assert.equal(hello.hosts, undefined);
    assert.deepEqual(hello.roleScripts, {});
    assert.equal(formatPos(hello.pos), "tests/hello/task.yaml:1:1");
    assert.equal(formatPos(hello.where["samples"]), "tests/hello/task.yaml:10:1");
  });

  it("reads a multi-host task: roles and per-role scripts", () => {
    const netperf = task(suite(p, "tests/"), "tests/netperf");
    assert.deepEqual(
      netperf.hosts?.map((r) => [r.name, r.count, r.system, formatPos(r.pos)]),
      [
        ["server", 1, undefined, "tests/netperf/task.yaml:3:3"],
        ["client", 2, "lab:debian-12", "tests/netperf/task.yaml:4:3"],
        ["observer", 1, undefined, "tests/netperf/task.yaml:5:3"],
      ],
    );
    assert.equal(netperf.execute, "echo common");
    assert.deepEqual(netperf.roleScripts, {
      execute: { server: "netserver -D" },
      prepare: { client: "echo prepare-client" },
      restore: { client: "echo restore-client" },
      debug: { server: "echo debug-server" },
    });
    assert.equal(netperf.samples, 1);
    assert.deepEqual(netperf.artifacts, []);
  });

  it("reads the ports a multi-host task reserves, by role or host", () => {
    const netperf = task(suite(p, "tests/"), "tests/netperf");
    assert.deepEqual(
      netperf.ports?.map((x) => [x.name, x.on, formatPos(x.pos)]),
      [
        ["netperf", "server", "tests/netperf/task.yaml:13:12"],
        ["control", "server", "tests/netperf/task.yaml:13:21"],
        ["debug", "client-2", "tests/netperf/task.yaml:14:13"],
      ],
    );
    assert.equal(task(suite(p, "tests/"), "tests/hello").ports, undefined);
  });
});

describe("loadProject: defaults troupe adds", async () => {
  const { project: p } = await load("default-backend");

  it("gives a project without backends the local backend with one localhost system", () => {
    assert.equal(p.backends.length, 1);
    const local = backend(p, "local");
    assert.equal(local.type, "local");
    assert.deepEqual(
      local.systems.map((s) => [s.name, s.backend, s.image, s.workers]),
      [["localhost", "local", "localhost", 1]],
    );
  });

  it("puts a troupe.yaml project without path: under /tmp/troupe/<name>", () => {
    assert.equal(p.remotePath, "/tmp/troupe/minimal");
  });

  it("loads the tasks with samples 1 and empty lists", () => {
    const one = task(suite(p, "checks/"), "checks/one");
    assert.equal(one.samples, 1);
    assert.deepEqual(one.artifacts, []);
    assert.deepEqual(one.environment, []);
    assert.equal(one.execute, "true");
  });

  it("searches upwards from a task directory", async () => {
    const { project } = await load("default-backend", "checks", "one");
    assert.equal(project.name, "minimal");
  });
});
