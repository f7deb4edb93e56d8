// The order jobs run in, as one Spread worker picks them (spread/runner.go,
// Runner.job), made reproducible by a seed.
//
// Spread gives each worker a seeded random permutation of the pending jobs.
// A worker of backend:system takes, among the pending jobs of its
// backend:system with the highest priority, the first in its permutation that
// is in the suite it is already inside (so suites are not re-prepared), or
// else the first in its permutation. Once it starts a task with samples, it
// runs that task's samples in order, lowest first, before anything else.
//
// orderForRun returns one list: within each backend:system, exactly the
// sequence such a worker follows (permutation from mulberry32(seed)); the
// backend:system groups are interleaved round-robin (in name order), so a
// scheduler reading the list front to back keeps every system busy. Same
// jobs and seed, same order.

import type { Job } from "../model/job.js";
import { compareBytes } from "../util/code-unit-order.js";
import { mulberry32, permutation } from "./prng.js";

type Orderable = Pick<Job, "name" | "priority" | "sample" | "backend" | "system" | "suite" | "task">;

export function orderForRun<T extends Orderable>(jobs: readonly T[], seed: number): T[] {
  const order = permutation(jobs.length, mulberry32(seed));
  const groups = new Map<string, number[]>();
  for (const i of order) {
    const key = `${jobs[i]!.backend.name}:${jobs[i]!.system.name}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  const sequences = [...groups.entries()].sort(([a], [b]) => compareBytes(a, b)).map(([, indices]) => workerSequence(jobs, indices));
  const out: T[] = [];
  for (let round = 0; out.length < jobs.length; round++) {
    for (const seq of sequences) {
      const job = seq[round];
      if (job) out.push(job);
    }
  }
  return out;
}

/** Positions in a fixed order, taken ones skipped as they come up: each is passed over once. */
interface Queue {
  readonly items: number[];
  head: number;
}

/**
 * The jobs one worker runs, in order; `indices` is its permutation restricted
 * to its backend:system. Each choice is read off queues kept in permutation
 * order (per priority, and per priority and suite) and per task in sample
 * order, skipping jobs already taken: O(n log n), where scanning every
 * pending job for every choice took O(n^2) (1,000 jobs: 10 ms; a system
 * with 10,000 jobs of a big project: seconds).
 */
function workerSequence<T extends Orderable>(jobs: readonly T[], indices: readonly number[]): T[] {
  const pending = indices.map((i) => jobs[i]!);
  const taken = new Uint8Array(pending.length);
  const first = (q: Queue | undefined): number => {
    if (!q) return -1;
    while (q.head < q.items.length && taken[q.items[q.head]!]) q.head++;
    return q.head < q.items.length ? q.items[q.head]! : -1;
  };
  const push = <K>(map: Map<K, Queue>, key: K, k: number): void => {
    const q = map.get(key);
    if (q) q.items.push(k);
    else map.set(key, { items: [k], head: 0 });
  };

  // By priority, highest first: every job, and the jobs of each suite.
  const byPriority = new Map<number, { all: Queue; left: number; bySuite: Map<T["suite"], Queue> }>();
  const byTask = new Map<T["task"], Queue>();
  pending.forEach((j, k) => {
    let level = byPriority.get(j.priority);
    if (!level) byPriority.set(j.priority, (level = { all: { items: [], head: 0 }, left: 0, bySuite: new Map() }));
    level.all.items.push(k);
    level.left++;
    push(level.bySuite, j.suite, k);
    if (j.task.samples !== undefined && j.task.samples > 1) push(byTask, j.task, k);
  });
  // A task's samples, lowest first (ties in permutation order).
  for (const q of byTask.values()) q.items.sort((a, b) => pending[a]!.sample - pending[b]!.sample || a - b);
  const levels = [...byPriority.keys()].sort((a, b) => b - a).map((p) => byPriority.get(p)!);
  let top = 0;

  const out: T[] = [];
  let last: T | undefined;
  const take = (k: number): void => {
    const job = pending[k]!;
    taken[k] = 1;
    byPriority.get(job.priority)!.left--;
    out.push(job);
    last = job;
  };

  while (out.length < pending.length) {
    // A task with samples runs them all, lowest first, before anything else.
    const sibling = last ? first(byTask.get(last.task)) : -1;
    if (sibling >= 0) {
      take(sibling);
      continue;
    }
    while (levels[top]!.left === 0) top++;
    const level = levels[top]!;
    // The suite the worker is in, else the first in the permutation.
    let best = last ? first(level.bySuite.get(last.suite)) : -1;
    if (best < 0) best = first(level.all);
    const lowest = first(byTask.get(pending[best]!.task));
    take(lowest >= 0 ? lowest : best);
  }
  return out;
}
