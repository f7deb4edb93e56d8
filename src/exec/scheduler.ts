// Which job an idle worker takes next: Spread's worker loop (runner.go,
// Runner.job), extended to jobs that need several hosts at once.
//
// Spread's rules, per worker (a host of one backend:system):
//  - after a task with samples, the lowest pending sample of the same task;
//  - only jobs at the top priority among those it could take;
//  - in run order, the first job of the suite the worker is already in;
//    otherwise the job whose suite has the fewest workers in it right now
//    (first in order on ties).
// A multi-host job is a candidate only when every host it needs can be taken
// from idle workers right now, all at once: nothing ever holds a partial set,
// so jobs cannot deadlock each other however scarce workers are.

import type { Job } from "../model/job.js";

export interface PendingJob {
  readonly job: Job;
  /** `backend:system` of the job itself (Spread's job.Backend/job.System). */
  readonly key: string;
  /** Hosts needed per `backend:system`. */
  readonly needs: ReadonlyMap<string, number>;
  /** Several hosts (a gang to allocate at once). */
  readonly multi: boolean;
}

export interface SchedWorker {
  readonly id: number;
  /** `backend:system` of the worker's host. */
  readonly key: string;
  /** Name of the suite the worker is inside, if any. */
  readonly suite?: string;
  /** The last job the worker ran. */
  readonly last?: Job;
}

export interface Pick<W extends SchedWorker> {
  /** Index in the pending list. */
  readonly index: number;
  /** The workers to run the job: `worker` alone, or a whole gang including it. */
  readonly members: W[];
}

export function suiteKey(job: Job): string {
  return `${job.backend.name}:${job.system.name}:${job.suite.name}`;
}

/**
 * Pick a job for `worker` among `pending` (null entries are taken). `idle`
 * are the idle workers, `worker` among them; `suiteWorkers` counts workers
 * inside each `backend:system:suite`. `maxPriority`, the highest priority of
 * any pending job, lets the usual case end early: the first runnable job of
 * the worker's suite at that priority is the answer, without looking further.
 */
export function pickJob<W extends SchedWorker>(
  worker: W,
  pending: readonly (PendingJob | null)[],
  idle: readonly W[],
  suiteWorkers: ReadonlyMap<string, number>,
  maxPriority?: number,
): Pick<W> | undefined {
  const gangs = new Map<number, W[]>();
  const runnable = (p: PendingJob | null, i: number): p is PendingJob => {
    if (!p || !p.needs.has(worker.key)) return false;
    if (!p.multi) return p.key === worker.key;
    const members = staff(p, worker, idle);
    if (!members) return false;
    gangs.set(i, members);
    return true;
  };
  const last = worker.last;
  const sampling = !!last && (last.task.samples ?? 1) > 1;
  const candidates: number[] = [];
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    if (!runnable(p, i)) continue;
    if (
      !sampling &&
      maxPriority !== undefined &&
      p.job.priority === maxPriority &&
      worker.suite !== undefined &&
      p.job.suite.name === worker.suite &&
      (p.multi || (p.job.task.samples ?? 1) <= 1)
    ) {
      return { index: i, members: gangs.get(i) ?? [worker] };
    }
    candidates.push(i);
  }
  if (candidates.length === 0) return undefined;
  const at = (i: number): PendingJob => pending[i] as PendingJob;
  const pickAt = (i: number): Pick<W> => ({ index: i, members: gangs.get(i) ?? [worker] });

  if (sampling) {
    const next = minSample(last, candidates, at);
    if (next !== undefined) return pickAt(next);
  }

  let top = -Infinity;
  for (const i of candidates) top = Math.max(top, at(i).job.priority);

  let best = -1;
  let bestWorkers = Infinity;
  for (const i of candidates) {
    const { job } = at(i);
    if (job.priority < top) continue;
    if (worker.suite !== undefined && job.suite.name === worker.suite) {
      best = i;
      break;
    }
    const c = suiteWorkers.get(suiteKey(job)) ?? 0;
    if (c < bestWorkers) {
      best = i;
      bestWorkers = c;
    }
  }
  if (best < 0) return undefined;
  const chosen = at(best);
  if (!chosen.multi && (chosen.job.task.samples ?? 1) > 1) {
    return pickAt(minSample(chosen.job, candidates, at) ?? best);
  }
  return pickAt(best);
}

/** The pending single-host job of the same task, backend and system with the lowest sample. */
function minSample(other: Job, candidates: readonly number[], at: (i: number) => PendingJob): number | undefined {
  let best: number | undefined;
  let bestSample = Infinity;
  for (const i of candidates) {
    const p = at(i);
    const j = p.job;
    if (p.multi || j.task.name !== other.task.name || j.backend.name !== other.backend.name || j.system.name !== other.system.name)
      continue;
    if (j.sample < bestSample) {
      best = i;
      bestSample = j.sample;
    }
  }
  return best;
}

/**
 * Idle workers for every host `p` needs, `worker` first; then workers already
 * inside the job's suite (fewer suite restores), then by id. Undefined when
 * there are not enough idle workers right now.
 */
export function staff<W extends SchedWorker>(p: PendingJob, worker: W, idle: readonly W[]): W[] | undefined {
  const members: W[] = [];
  for (const [key, n] of p.needs) {
    const pool = idle.filter((w) => w.key === key).sort((a, b) => rank(a) - rank(b) || a.id - b.id);
    if (pool.length < n) return undefined;
    members.push(...pool.slice(0, n));
  }
  return members;
  function rank(w: W): number {
    if (w === worker) return 0;
    return w.suite === p.job.suite.name ? 1 : 2;
  }
}

/**
 * How many workers each `backend:system` gets: Spread's rule (the system's
 * `workers`, but never more than the hosts its jobs need), raised to what the
 * largest multi-host job needs at once, since it could never run otherwise.
 */
export function workerCounts(
  pending: readonly PendingJob[],
  workersOf: (key: string) => number,
): Map<string, { count: number; raised: boolean }> {
  const total = new Map<string, number>();
  const largest = new Map<string, number>();
  for (const p of pending) {
    for (const [key, n] of p.needs) {
      total.set(key, (total.get(key) ?? 0) + n);
      largest.set(key, Math.max(largest.get(key) ?? 0, n));
    }
  }
  const out = new Map<string, { count: number; raised: boolean }>();
  for (const [key, need] of total) {
    const configured = Math.max(1, workersOf(key));
    const spread = Math.min(configured, need);
    const gang = largest.get(key) ?? 1;
    out.set(key, { count: Math.max(spread, gang), raised: gang > configured });
  }
  return out;
}
