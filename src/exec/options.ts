// What runJobs takes and gives back.

import type { Host } from "../backends/backend.js";
import type { HostPool } from "../hosts/pool.js";
import type { Job } from "../model/job.js";
import type { Bundle } from "../transfer/bundle.js";
import type { EventStream, FailedHook } from "../report/events.js";
import type { JobSessionFactory } from "./job-session.js";
import type { JobOutcome } from "./tally.js";

/** Spread's debugging flags. */
export interface RunModes {
  /** -shell: an interactive shell instead of each task's execute script (the task then counts as passed). */
  readonly shell: boolean;
  /** -shell-before: a shell before each execute script. */
  readonly shellBefore: boolean;
  /** -shell-after: a shell after each execute script, and after any failing script. */
  readonly shellAfter: boolean;
  /** -debug: a shell at the point of any failure, with the script's environment. */
  readonly debug: boolean;
  /** -abend: at the first failure on a worker, stop it without running any restore script. */
  readonly abend: boolean;
  /** -restore: run only restore scripts (no prepare, no execute). */
  readonly restore: boolean;
}

export interface RunOptions {
  /** The jobs, in run order (plan's orderForRun, already seeded). */
  readonly jobs: readonly Job[];
  /** The run's results directory; local hosts keep their copies under `<runDir>/hosts/`. */
  readonly runDir: string;
  /** For run-started; defaults to the last part of runDir. */
  readonly runId?: string;
  /** For run-started: the seed the order came from. */
  readonly seed?: number;
  readonly events: EventStream;
  /** Where hosts come from and go (hosts/pool.ts); the caller closes it. */
  readonly hosts: HostPool;
  /** The project, sent to every host as it comes up (none: nothing is sent). */
  readonly bundle?: Bundle;
  /** After execute (passed or not), once per host of the job; `as`: the host's name in a job with `hosts:`. */
  readonly fetchArtifacts?: (job: Job, host: Host, as?: string) => Promise<void>;
  /** Opens the sync service for each job (multi-host jobs above all). */
  readonly jobSession?: JobSessionFactory;
  /** Run each task this many more times, stopping at its first failure (Spread's -repeat). */
  readonly repeat?: number;
  readonly modes?: Partial<RunModes>;
  /** First interrupt: stop scheduling, kill scripts, run restores, discard hosts. */
  readonly signal?: AbortSignal;
  /** Second interrupt: also skip restores; hosts are still discarded. */
  readonly hardSignal?: AbortSignal;
}

export interface RunOutcome {
  /** Every job's status, reason and duration, in the order they ended. */
  readonly jobs: readonly JobOutcome[];
  /** Job names, sorted. */
  readonly passed: readonly string[];
  readonly failed: readonly string[];
  readonly aborted: readonly string[];
  /** Hook-level failures, in the order they happened. */
  readonly failedHooks: readonly FailedHook[];
  readonly interrupted: boolean;
  /** `backend:system` of each host that could not be allocated or reached (infrastructure, not a test failure). */
  readonly unallocated?: readonly string[];
  /** Nothing failed and nothing was aborted (Spread's "successful run"). */
  readonly success: boolean;
  readonly durationMs: number;
}
