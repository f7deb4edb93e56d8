// Mirrors Spread's tests/manual: two backends (lxd-m manual), each with an
// automatic and a manual system; two suites (checks-m manual), each with an
// automatic and a manual task. Each case repeats the script's grep checks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { planJobs } from "../../../src/plan/index.js";
import { buildProject } from "./builders.js";

const systems = { "ubuntu-16.04-a": { image: "ubuntu-16.04" }, "ubuntu-16.04-m": { image: "ubuntu-16.04", manual: true } };
const tasks = { "task-a": {}, "task-m": { manual: true } };
const project = buildProject({
  backends: {
    "lxd-a": { type: "lxd", systems },
    "lxd-m": { type: "lxd", systems, manual: true },
  },
  suites: {
    "checks-a/": { tasks },
    "checks-m/": { tasks, manual: true },
  },
});

function list(...filters: string[]): string {
  return planJobs(project, { filters })
    .map((j) => j.name)
    .join(" ");
}

const has = (out: string, re: RegExp) => assert.match(out, re);
const hasNot = (out: string, re: RegExp) => assert.doesNotMatch(out, re);

test("no filter: only the all-automatic job", () => {
  const out = list();
  assert.equal(out, "lxd-a:ubuntu-16.04-a:checks-a/task-a");
  has(out, /lxd-a.*04-a.*checks-a.*task-a/);
  hasNot(out, /lxd.*-m/);
});

test("lxd-m: the manual backend is selected, everything else stays automatic", () => {
  const out = list("lxd-m");
  has(out, /lxd-m.*04-a.*checks-a.*task-a/);
  hasNot(out, /lxd-m.*-m/);
  assert.equal(out, "lxd-m:ubuntu-16.04-a:checks-a/task-a");
});

test("lxd-...: matches an automatic backend, so the manual one drops", () => {
  const out = list("lxd-...");
  has(out, /lxd-a.*04-a.*checks-a.*task-a/);
  hasNot(out, /lxd.*-m/);
});

test("ubuntu-16.04-m: the manual system is selected, but only on the automatic backend", () => {
  const out = list("ubuntu-16.04-m");
  has(out, /lxd-a.*04-m.*checks-a.*task-a/);
  hasNot(out, /lxd-m/);
  hasNot(out, /lxd.*04-m.*-m/);
  assert.equal(out, "lxd-a:ubuntu-16.04-m:checks-a/task-a");
});

test("ubuntu-...: automatic systems win", () => {
  const out = list("ubuntu-...");
  has(out, /lxd-a.*04-a.*checks-a.*task-a/);
  hasNot(out, /lxd.*-m/);
});

test("checks-m/: the manual suite is selected", () => {
  const out = list("checks-m/");
  has(out, /lxd-a.*04-a.*checks-m.*task-a/);
  hasNot(out, /lxd.*-m.*checks-m/);
  hasNot(out, /lxd.*checks-m.*-m/);
  assert.equal(out, "lxd-a:ubuntu-16.04-a:checks-m/task-a");
});

test("checks-.../: automatic suites win", () => {
  const out = list("checks-.../");
  has(out, /lxd-a.*04-a.*checks-a.*task-a/);
  hasNot(out, /lxd.*-m/);
});

test("/task-m: the manual task is selected in the automatic suite", () => {
  const out = list("/task-m");
  has(out, /lxd-a.*04-a.*checks-a.*task-m/);
  hasNot(out, /lxd.*-m.*task-m/);
  assert.equal(out, "lxd-a:ubuntu-16.04-a:checks-a/task-m");
});

test("/task-...: automatic tasks win", () => {
  const out = list("/task-...");
  has(out, /lxd-a.*04-a.*checks-a.*task-a/);
  hasNot(out, /lxd.*-m/);
});

test("selecting every manual level at once runs the all-manual job", () => {
  assert.equal(list("lxd-m:ubuntu-16.04-m:checks-m/task-m"), "lxd-m:ubuntu-16.04-m:checks-m/task-m");
});

test("two filters, one matching an automatic task, drop the manual task the other matches", () => {
  assert.equal(list("checks-a/task-a", "checks-a/task-m"), "lxd-a:ubuntu-16.04-a:checks-a/task-a");
});

test("a project where everything is manual has no jobs without a filter", () => {
  const p = buildProject({ backends: { lxd: { systems: ["ubuntu-16.04"] } }, suites: { "t/": { tasks: { x: { manual: true } } } } });
  assert.throws(() => planJobs(p), { code: "E_PROJECT", message: /cannot find any tasks/ });
  assert.equal(planJobs(p, { filters: ["t/x"] }).length, 1);
});
