// What happened to each job and hook, for job-finished, run-finished and the
// outcome (Spread's stats: done, error, abort, and the failed hooks).

import type { Job } from "../model/job.js";
import type { EventStream, JobStatus } from "../report/events.js";

export class Tally {
  private readonly status = new Map<string, JobStatus>();
  readonly failedHooks: string[] = [];

  constructor(private readonly events: EventStream) {}

  has(job: Job): boolean {
    return this.status.has(job.name);
  }

  /** Record the job's final status and emit job-finished (once per job). */
  finish(job: Job, status: JobStatus, startedAt: number | undefined, reason?: string): void {
    if (this.status.has(job.name)) return;
    this.status.set(job.name, status);
    this.events.emit({
      type: "job-finished",
      job: job.name,
      status,
      durationMs: startedAt === undefined ? 0 : Date.now() - startedAt,
      ...(reason ? { reason } : {}),
    });
  }

  /** `prepare project (local:debian)`, `restore task (local:debian:tests/a) on client-1`. */
  hookFailed(text: string): void {
    this.failedHooks.push(text);
  }

  names(status: JobStatus): string[] {
    return [...this.status]
      .filter(([, s]) => s === status)
      .map(([n]) => n)
      .sort();
  }
}
