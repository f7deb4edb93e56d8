import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32, orderForRun, permutation, planJobs } from "../../../src/plan/index.js";
import type { Job } from "../../../src/model/job.js";
import { buildProject } from "./builders.js";

function project() {
  return buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04", "debian-9"] }, qemu: { systems: ["ubuntu-16.04"] } },
    suites: {
      "a/": { tasks: { t1: {}, t2: {}, t3: {}, t4: {} } },
      "b/": { tasks: { u1: {}, u2: {}, u3: {} } },
      "c/": { priority: 5, tasks: { v1: {}, v2: { priority: -1 } } },
      "d/": { tasks: { s: { samples: 4 } } },
    },
  });
}

const names = (jobs: readonly Job[]) => jobs.map((j) => j.name);

test("mulberry32 matches the reference C implementation (values computed with it)", () => {
  const first3 = (seed: number) => {
    const r = mulberry32(seed);
    return [r(), r(), r()].map((x) => x * 2 ** 32);
  };
  assert.deepEqual(first3(1), [2693262067, 11749833, 2265367787]);
  assert.deepEqual(first3(0xdeadbeef), [4043151706, 1147597007, 3315858022]);
});

test("permutation is a permutation", () => {
  const p = permutation(50, mulberry32(42));
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test("same seed, same order; different seeds, different orders; nothing lost", () => {
  const jobs = planJobs(project());
  const a = names(orderForRun(jobs, 12345));
  assert.deepEqual(names(orderForRun(jobs, 12345)), a);
  assert.deepEqual(names(orderForRun(planJobs(project()), 12345)), a);
  assert.deepEqual([...a].sort(), [...names(jobs)].sort());
  const b = names(orderForRun(jobs, 54321));
  assert.notDeepEqual(b, a);
  // A seed beyond 32 bits (Spread seeds are Unix times or any int64) still decides the order.
  assert.notDeepEqual(names(orderForRun(jobs, 2 ** 40 + 12345)), a);
});

test("per backend:system: higher priority first, a suite finished before the next starts, samples in order", () => {
  const jobs = planJobs(project());
  for (const seed of [1, 2, 3, 99, 2024]) {
    const ordered = orderForRun(jobs, seed);
    const groups = new Map<string, Job[]>();
    for (const j of ordered) {
      const k = `${j.backend.name}:${j.system.name}`;
      groups.set(k, [...(groups.get(k) ?? []), j]);
    }
    assert.equal(groups.size, 3);
    for (const [key, seq] of groups) {
      assert.equal(seq.length, 13, key);
      // Priorities never go up.
      for (let i = 1; i < seq.length; i++) assert.ok(seq[i]!.priority <= seq[i - 1]!.priority, `${key} seed ${seed}`);
      // c/v1 (priority 5) first, c/v2 (priority -1) last.
      assert.equal(seq[0]!.task.name, "c/v1");
      assert.equal(seq[seq.length - 1]!.task.name, "c/v2");
      // Among priority-0 jobs, each suite is one contiguous run.
      const suites = seq.filter((j) => j.priority === 0).map((j) => j.suite.name);
      const runs = suites.filter((s, i) => i === 0 || s !== suites[i - 1]);
      assert.equal(new Set(runs).size, runs.length, `${key} seed ${seed}: ${suites.join(",")}`);
      // Samples of d/s run consecutively, #1..#4.
      const d = seq.map((j, i) => [j, i] as const).filter(([j]) => j.task.name === "d/s");
      assert.deepEqual(
        d.map(([j]) => j.sample),
        [1, 2, 3, 4],
      );
      assert.equal(d[3]![1] - d[0]![1], 3);
    }
  }
});

test("backend:system groups are interleaved round-robin in name order", () => {
  const ordered = orderForRun(planJobs(project()), 7);
  assert.deepEqual(
    ordered.slice(0, 6).map((j) => `${j.backend.name}:${j.system.name}`),
    ["lxd:debian-9", "lxd:ubuntu-16.04", "qemu:ubuntu-16.04", "lxd:debian-9", "lxd:ubuntu-16.04", "qemu:ubuntu-16.04"],
  );
});

/** The worker's rule as Spread states it, one scan of every pending job per choice: the model orderForRun must follow. */
function ruleByScanning(pending: (Job | undefined)[]): Job[] {
  const out: Job[] = [];
  let last: Job | undefined;
  const take = (k: number): void => {
    last = pending[k]!;
    pending[k] = undefined;
    out.push(last);
  };
  const lowestSample = (of: Job): number => {
    let best = -1;
    pending.forEach((j, k) => {
      if (j && j.task === of.task && (best < 0 || j.sample < pending[best]!.sample)) best = k;
    });
    return best;
  };
  const hasSamples = (j: Job): boolean => (j.task.samples ?? 1) > 1;
  while (pending.some((j) => j)) {
    const sibling = last && hasSamples(last) ? lowestSample(last) : -1;
    if (sibling >= 0) {
      take(sibling);
      continue;
    }
    const top = Math.max(...pending.filter((j) => j).map((j) => j!.priority));
    const atTop = pending.map((j, k) => [j, k] as const).filter(([j]) => j && j.priority === top);
    const best = (atTop.find(([j]) => last && j!.suite === last.suite) ?? atTop[0]!)[1];
    take(hasSamples(pending[best]!) ? lowestSample(pending[best]!) : best);
  }
  return out;
}

test("each worker's sequence is the rule applied job by job, on random projects of priorities, suites and samples", () => {
  const rand = mulberry32(2026);
  const pick = (n: number): number => Math.floor(rand() * n);
  for (let round = 0; round < 40; round++) {
    const suites: Record<string, { priority?: number; tasks: Record<string, { priority?: number; samples?: number }> }> = {};
    for (let s = 0; s < 1 + pick(4); s++) {
      const tasks: Record<string, { priority?: number; samples?: number }> = {};
      for (let t = 0; t < 1 + pick(6); t++) {
        tasks[`t${t}`] = {
          ...(pick(3) === 0 ? { priority: pick(3) - 1 } : {}),
          ...(pick(4) === 0 ? { samples: 2 + pick(3) } : {}),
        };
      }
      suites[`s${s}/`] = { ...(pick(3) === 0 ? { priority: pick(3) } : {}), tasks };
    }
    const jobs = planJobs(buildProject({ backends: { local: { systems: ["a"] } }, suites }));
    const seed = pick(1_000_000);
    const model = ruleByScanning(permutation(jobs.length, mulberry32(seed)).map((i) => jobs[i]));
    assert.deepEqual(names(orderForRun(jobs, seed)), names(model), `round ${round}`);
  }
});
