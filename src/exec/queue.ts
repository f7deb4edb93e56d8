// The jobs waiting to run, and the choice of the next one for an idle
// worker. Pure: no I/O, no events, no clock; the engine asks and acts.
//
// Picking stays linear in what is left: taken entries are nulled and the
// list is compacted once they are most of it; the highest pending priority
// is kept by count, so the usual pick stops at the first fitting job (see
// scheduler.ts); jobs that can no longer run are looked for only when the
// set of live hosts changed.

import type { Job } from "../model/job.js";
import { needsOf, slotsFor, type Slot } from "./roles.js";
import { pickJob, suiteKey, type PendingJob, type SchedWorker } from "./scheduler.js";

export interface QueuedJob extends PendingJob {
  readonly slots: readonly Slot[];
}

export interface QueuePick<W extends SchedWorker> {
  readonly entry: QueuedJob;
  /** The workers that run it: one, or a whole gang for a multi-host job. */
  readonly members: W[];
}

export class JobQueue {
  private readonly pending: (QueuedJob | null)[] = [];
  /** How many pending jobs there are at each priority. */
  private readonly priorities = new Map<number, number>();
  /** Taken entries (null) in `pending` since it was last compacted. */
  private taken = 0;
  /** Live hosts per `backend:system` when impossible jobs were last looked for. */
  private aliveSignature: string | undefined;
  /** Workers inside each `backend:system:suite` right now. */
  private readonly suiteWorkers = new Map<string, number>();

  /**
   * Queue `jobs` in run order. Returns the jobs that cannot be planned at all
   * (a task whose `hosts:` cannot be met), with why.
   */
  add(jobs: readonly Job[]): [Job, string][] {
    const unplannable: [Job, string][] = [];
    for (const job of jobs) {
      let slots: Slot[];
      try {
        slots = slotsFor(job);
      } catch (err) {
        unplannable.push([job, err instanceof Error ? err.message : String(err)]);
        continue;
      }
      this.pending.push({ job, slots, key: `${job.backend.name}:${job.system.name}`, needs: needsOf(slots), multi: slots.length > 1 });
      this.priorities.set(job.priority, (this.priorities.get(job.priority) ?? 0) + 1);
    }
    return unplannable;
  }

  /** Every queued job still waiting. */
  waiting(): QueuedJob[] {
    return this.pending.filter((p) => p !== null);
  }

  /** The systems (`backend:system`) queued jobs need hosts of. */
  systems(): Map<string, Slot> {
    const out = new Map<string, Slot>();
    for (const p of this.pending) if (p) for (const s of p.slots) if (!out.has(s.key)) out.set(s.key, s);
    return out;
  }

  /** Could a worker of `key` still be given a job? */
  wants(key: string): boolean {
    return this.pending.some((p) => p !== null && p.needs.has(key));
  }

  /**
   * The next job for `worker`, among the idle workers `idle` (worker among
   * them), taken off the queue with its gang; undefined when none fits now.
   */
  take<W extends SchedWorker>(worker: W, idle: readonly W[]): QueuePick<W> | undefined {
    const pick = pickJob(worker, this.pending, idle, this.suiteWorkers, this.maxPriority());
    if (!pick) return undefined;
    const entry = this.remove(pick.index, true);
    const k = suiteKey(entry.job);
    this.suiteWorkers.set(k, (this.suiteWorkers.get(k) ?? 0) + pick.members.length);
    return { entry, members: pick.members };
  }

  /** The job's workers left its suite's count (the job is over). */
  done(job: Job, workers: number): void {
    const k = suiteKey(job);
    this.suiteWorkers.set(k, (this.suiteWorkers.get(k) ?? workers) - workers);
  }

  /**
   * Take off the jobs that need more hosts of a system than are left alive
   * (`alive`: live hosts per `backend:system`), with why. Pending jobs are
   * only ever taken away, so the answer changes only when a host dies: the
   * scan runs again only then.
   */
  dropImpossible(alive: ReadonlyMap<string, number>): [job: Job, why: string, system: string][] {
    const signature = [...alive].map(([k, n]) => `${k}=${n}`).join(" ");
    if (signature === this.aliveSignature) return [];
    this.aliveSignature = signature;
    const dropped: [Job, string, string][] = [];
    this.pending.forEach((p, i) => {
      if (!p) return;
      for (const [key, n] of p.needs) {
        const left = alive.get(key) ?? 0;
        if (left < n) {
          this.remove(i, false);
          dropped.push([p.job, n === 1 ? `no host of ${key} left to run it` : `needs ${n} hosts of ${key}, only ${left} left`, key]);
          return;
        }
      }
    });
    this.compact();
    return dropped;
  }

  /** Take every job left off the queue (the run stops). */
  drain(): Job[] {
    const left = this.waiting().map((p) => p.job);
    this.pending.length = 0;
    this.priorities.clear();
    this.taken = 0;
    return left;
  }

  /** The highest priority of a pending job. */
  private maxPriority(): number | undefined {
    let max: number | undefined;
    for (const [priority, n] of this.priorities) if (n > 0 && (max === undefined || priority > max)) max = priority;
    return max;
  }

  private remove(i: number, compact: boolean): QueuedJob {
    const p = this.pending[i]!;
    this.pending[i] = null;
    this.priorities.set(p.job.priority, (this.priorities.get(p.job.priority) ?? 1) - 1);
    this.taken += 1;
    if (compact) this.compact();
    return p;
  }

  /** Drop taken entries once they are most of the list, so that picking stays linear in what is left. */
  private compact(): void {
    if (this.taken < 64 || this.taken * 2 < this.pending.length) return;
    const left = this.pending.filter((p) => p !== null);
    this.pending.length = 0;
    this.pending.push(...left);
    this.taken = 0;
  }
}
