// What happened to each job and hook, for job-finished, run-finished and the
// outcome (Spread's stats: done, error, abort, and the failed hooks).

import type { Job } from "../model/job.js";
import type { EventStream, FailedHook, JobKv, JobStatus } from "../report/events.js";

/** One job's result, as the run's outcome gives it. */
export interface JobOutcome {
  readonly name: string;
  readonly status: JobStatus;
  /** Why it failed or was aborted, in one line. */
  readonly reason?: string;
  /** From its first prepare to its end; 0 for a job that never started. */
  readonly durationMs: number;
}

export class Tally {
  private readonly jobs = new Map<string, JobOutcome>();
  readonly failedHooks: FailedHook[] = [];

  constructor(private readonly events: EventStream) {}

  has(job: Job): boolean {
    return this.jobs.has(job.name);
  }

  /** Record the job's final status and emit job-finished (once per job). */
  finish(job: Job, status: JobStatus, startedAt: number | undefined, reason?: string, kv?: JobKv): void {
    if (this.jobs.has(job.name)) return;
    const durationMs = startedAt === undefined ? 0 : Date.now() - startedAt;
    this.jobs.set(job.name, { name: job.name, status, durationMs, ...(reason ? { reason } : {}) });
    this.events.emit({ type: "job-finished", job: job.name, status, durationMs, ...(reason ? { reason } : {}), ...(kv ? { kv } : {}) });
  }

  /** A prepare, restore or artifacts hook failed (jobs' own failures are their status). */
  hookFailed(f: FailedHook): void {
    this.failedHooks.push(f);
  }

  /** Names of the jobs with `status`, sorted. */
  names(status: JobStatus): string[] {
    return [...this.jobs.values()]
      .filter((j) => j.status === status)
      .map((j) => j.name)
      .sort();
  }

  /** Every job's result, in the order they ended. */
  outcomes(): JobOutcome[] {
    return [...this.jobs.values()];
  }
}
