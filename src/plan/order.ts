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
import { compareBytes } from "./environment.js";
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

/** The jobs one worker runs, in order; `indices` is its permutation restricted to its backend:system. */
function workerSequence<T extends Orderable>(jobs: readonly T[], indices: readonly number[]): T[] {
  const pending: (T | undefined)[] = indices.map((i) => jobs[i]);
  const out: T[] = [];
  let last: T | undefined;

  const take = (k: number): T => {
    const job = pending[k]!;
    pending[k] = undefined;
    out.push(job);
    last = job;
    return job;
  };
  const minSample = (of: T): number => {
    let best = -1;
    for (let k = 0; k < pending.length; k++) {
      const j = pending[k];
      if (!j || j.task !== of.task) continue;
      if (best < 0 || j.sample < pending[best]!.sample) best = k;
    }
    return best;
  };

  while (out.length < indices.length) {
    if (last && last.task.samples !== undefined && last.task.samples > 1) {
      const k = minSample(last);
      if (k >= 0) {
        take(k);
        continue;
      }
    }
    let top = -Infinity;
    for (const j of pending) if (j && j.priority > top) top = j.priority;
    let best = -1;
    for (let k = 0; k < pending.length; k++) {
      const j = pending[k];
      if (!j || j.priority < top) continue;
      if (last && j.suite === last.suite) {
        best = k;
        break;
      }
      if (best < 0) best = k;
    }
    const picked = pending[best]!;
    if (picked.task.samples !== undefined && picked.task.samples > 1) take(minSample(picked));
    else take(best);
  }
  return out;
}
