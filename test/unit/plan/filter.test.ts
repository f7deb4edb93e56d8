import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFilters, planJobs } from "../../../src/plan/index.js";
import { TroupeError } from "../../../src/util/errors.js";
import { buildProject } from "./builders.js";

const pass = (filter: string, name: string, sample = 1) => parseFilters([filter]).pass({ name, sample });

test("README filter forms each match one of the two README jobs", () => {
  const one = "lxd:ubuntu-16.04:mysuite/task-one:variant-a";
  const two = "lxd:ubuntu-16.04:mysuite/task-two:variant-b";
  const cases: [string, boolean, boolean][] = [
    ["lxd", true, true],
    ["lxd:mysuite/", true, true],
    ["ubuntu-16.04", true, true],
    ["ubuntu-...", true, true],
    ["mysuite/", true, true],
    ["/task-one", true, false],
    ["/task...", true, true],
    ["mysu...one", true, false],
    ["lxd:ubuntu-16.04:variant-a", true, false],
    ["mysuite/task-one", true, false],
    ["mysuite/task-two", false, true],
  ];
  for (const [f, a, b] of cases) {
    assert.equal(pass(f, one), a, `${f} vs one`);
    assert.equal(pass(f, two), b, `${f} vs two`);
  }
});

test("Spread's TestFilter pass and block lists", () => {
  const name = "backend:image:suite/test:variant";
  for (const f of [
    "backend",
    "backend:",
    "image",
    ":image:",
    "suite/test",
    "suit...est",
    "suite/",
    "/test",
    ":variant",
    "...",
    "im...",
    "...ge",
  ]) {
    assert.equal(pass(f, name), true, f);
  }
  for (const f of ["nothing", "noth...", "...hing", ":backend", "suite", "test"]) {
    assert.equal(pass(f, name), false, f);
  }
});

test("components must match whole; a dot is literal", () => {
  assert.equal(pass("ubuntu", "lxd:ubuntu-16.04:s/t"), false);
  assert.equal(pass("ubuntu-16.04", "lxd:ubuntu-16x04:s/t"), false);
  assert.equal(pass("lx", "lxd:ubuntu-16.04:s/t"), false);
  assert.equal(pass("lxd:s/t", "lxd:ubuntu-16.04:s/t"), true);
  assert.equal(pass("s/t:lxd", "lxd:ubuntu-16.04:s/t"), false);
  // As in Spread, the partial-task slash only works at the start or end of the whole filter.
  assert.equal(pass("lxd:/t", "lxd:ubuntu-16.04:s/t"), false);
  assert.equal(pass("lxd:s/", "lxd:ubuntu-16.04:s/t"), true);
});

test("sample selection: #N and #N..M", () => {
  assert.equal(pass("s/t#2", "lxd:u:s/t#2", 2), true);
  assert.equal(pass("s/t#2", "lxd:u:s/t#3", 3), false);
  assert.equal(pass("s/t#2..4", "lxd:u:s/t#3", 3), true);
  assert.equal(pass("s/t#2..4", "lxd:u:s/t#5", 5), false);
  // A component still matches a job with samples: `#` ends a component.
  assert.equal(pass("s/t", "lxd:u:s/t#5", 5), true);
});

test("bad filters are E_FILTER naming the filter and what is allowed", () => {
  for (const bad of ["lxd..x", "a::b", "a#b", "s/t#0", "s/t#3..2", "....", "a(b"]) {
    assert.throws(
      () => parseFilters(["ok", bad]),
      (e: unknown) => {
        assert.ok(e instanceof TroupeError, bad);
        assert.equal(e.code, "E_FILTER");
        assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
        assert.match(e.message, /"\.\.\." as a wildcard/);
        return true;
      },
    );
  }
});

test("no filter arguments pass everything", () => {
  assert.equal(parseFilters([]).pass({ name: "a:b:c/d", sample: 1 }), true);
});

test("planJobs applies filters, and a filter matching nothing is E_FILTER", () => {
  const project = buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04", "ubuntu-18.04"] }, qemu: { systems: ["ubuntu-16.04"] } },
    suites: {
      "mysuite/": { tasks: { "task-one": { environment: { "V/variant-a,variant-b": "x" } }, "task-two": { samples: 2 } } },
    },
  });
  const names = (...f: string[]) => planJobs(project, { filters: f }).map((j) => j.name);
  assert.deepEqual(names("lxd:ubuntu-16.04:variant-a"), ["lxd:ubuntu-16.04:mysuite/task-one:variant-a"]);
  assert.deepEqual(names("qemu:mysuite/task-two#2"), ["qemu:ubuntu-16.04:mysuite/task-two#2"]);
  assert.deepEqual(names("ubuntu-18.04:mysu...two"), ["lxd:ubuntu-18.04:mysuite/task-two#1", "lxd:ubuntu-18.04:mysuite/task-two#2"]);
  assert.throws(() => names("nothing"), { code: "E_FILTER", message: /nothing matches the filters: nothing/ });
});
