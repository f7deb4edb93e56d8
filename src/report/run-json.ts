// The shape of `run.json`, the one machine-readable record of a run. Written
// by ResultsWriter (results.ts) into `.troupe/runs/<run-id>/run.json`, copied
// by `--json FILE`, read back by toJUnit (junit.ts). Times are ISO 8601 UTC
// strings; durations are milliseconds; paths are relative to the run
// directory, with `/` separators.

import type { JobStatus, Level, Phase } from "./events.js";

export const RUN_JSON_FORMAT = "troupe-run/1";

/** One script run on one host: a hook of a job, or a project/backend/suite hook. */
export interface HookJson {
  readonly phase: Phase;
  readonly level: Level;
  /** Spread's context string: the job name, or `backend:system[:suite/]`. */
  readonly context: string;
  readonly host: string;
  /** In a multi-host job: the host's name in the job (TROUPE_HOST), `server`, `client-1`. */
  readonly as?: string;
  /** Exit status; null when killed, or while still running. */
  readonly exitCode: number | null;
  readonly killedBy?: "timeout" | "interrupt" | "signal";
  readonly status: "running" | "passed" | "failed";
  readonly durationMs: number;
  readonly startTime: string;
  readonly endTime?: string;
  /** The log file, relative to the run directory. */
  readonly logPath?: string;
  /** For a failed script: why, in one line (`exit status 1`, ERROR's message, `kill-timeout reached`). */
  readonly error?: string;
  /** For a failed script: what it printed (its last 64 KiB), for reports. */
  readonly output?: string;
}

/**
 * One host of a job (one entry for a single-host job). A multi-host job
 * passes only if every one of its hosts passed.
 */
export interface JobHostJson {
  /** The host's own name, as in the run's `hosts` list: `debian-3`. */
  readonly name: string;
  /** In a multi-host job: its name in the job (TROUPE_HOST), `client-1`. */
  readonly as?: string;
  /** In a multi-host job: its role, `client`. */
  readonly role?: string;
  /** failed if any of its scripts failed; else passed once its execute script passed. */
  readonly status: JobStatus | "running";
  /** The execute script's exit status on this host; null if it did not end by itself or did not run. */
  readonly exitCode: number | null;
  /** How long the execute script ran on this host. */
  readonly durationMs: number;
  /** The host's execute log, relative to the run directory. */
  readonly logPath?: string;
  /** Every log of this host's scripts in the job (prepare, execute, restore, ...), in the order they ran. */
  readonly logs?: readonly string[];
  /** Why this host failed: its first failed script, `execute: exit status 1`. */
  readonly error?: string;
}

export interface JobJson {
  /** `backend:system:suite/task[:variant][#sample]`. */
  readonly name: string;
  readonly backend: string;
  readonly system: string;
  /** `tests/main/`, with its trailing slash. */
  readonly suite: string;
  /** The task's full name: `tests/main/hello`. */
  readonly task: string;
  readonly variant: string;
  readonly sample: number;
  /** The job's folder, relative to the run directory; absent for a job that never started. */
  readonly dir?: string;
  /** `running` only in a run.json written while the run goes on. */
  readonly status: JobStatus | "running";
  /** 1-based position among executed jobs (Spread's `(N/M)`); 0 if it never started. */
  readonly seq: number;
  readonly startTime?: string;
  readonly endTime?: string;
  readonly durationMs: number;
  readonly hosts: readonly JobHostJson[];
  readonly hooks: readonly HookJson[];
  /** Why the job failed or was aborted. */
  readonly reason?: string;
}

export interface HostJson {
  readonly name: string;
  readonly backend: string;
  readonly system: string;
  readonly address: string;
  readonly allocatedTime: string;
  readonly discardedTime?: string;
  readonly discardReason?: string;
  /** Set when the host's worker broke (lost connection, ...). */
  readonly broken?: string;
  /** A host an earlier run kept (-reuse), taken again. */
  readonly reused?: boolean;
  /** Kept at the end for later runs (-reuse): `discardedTime` is when it was let go of. */
  readonly kept?: boolean;
}

export interface RunJson {
  readonly format: typeof RUN_JSON_FORMAT;
  readonly runId: string;
  readonly seed: number;
  /** `running` while the run goes on; `incomplete` when the writer was closed before the run finished. */
  readonly status: "running" | "finished" | "interrupted" | "incomplete";
  readonly startTime: string;
  readonly endTime?: string;
  readonly durationMs: number;
  readonly workers: number;
  readonly totals: {
    readonly jobs: number;
    readonly passed: number;
    readonly failed: number;
    readonly aborted: number;
    readonly skipped: number;
  };
  /** Hook-level failures as the engine named them (`prepare project (local:debian)`). */
  readonly failedHooks: readonly string[];
  readonly jobs: readonly JobJson[];
  /** Project, backend and suite hooks (those not part of one job). */
  readonly hooks: readonly HookJson[];
  readonly hosts: readonly HostJson[];
}
