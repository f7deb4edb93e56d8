// A job: one task x variant x backend x system (x sample). What plan/ produces
// and exec/ runs. Plain data, so that `troupe list --json` can print it.

import type { Backend, DurationMs, HostRole, Project, Suite, System, Task } from "./project.js";

/** One variable of a job's environment, in the order Spread evaluates them. */
export interface EnvVar {
  readonly key: string;
  /** Unevaluated shell text, evaluated on the host; `$(HOST:cmd)` already replaced. */
  readonly value: string;
}

/** The levels at which a script runs; each has its own timeouts and working directory. */
export type HookLevel = "project" | "backend" | "suite" | "task";

export interface Timeouts {
  /** Print what the script printed since the last warning, every `warn` ms. */
  readonly warn: DurationMs;
  /** Kill the script's process group after `kill` ms. 0 or -1 means never. */
  readonly kill: DurationMs;
}

/** A port reserved before the job starts: from the task's `ports:` or its TROUPE_PORTS variable. */
export interface JobPort {
  /** `http`: TROUPE_PORT_HTTP, `troupe-ctl port http`. */
  readonly name: string;
  /** The host or role that listens on it (`server`, `client-1`); every host of the job when absent. */
  readonly on?: string;
}

export interface Job {
  /** `backend:system:suite/task:variant` (no `:variant` when there is none; `#N` suffix for samples > 1). */
  readonly name: string;
  readonly project: Project;
  readonly backend: Backend;
  readonly system: System;
  readonly suite: Suite;
  readonly task: Task;
  /** "" when the task has no variant. */
  readonly variant: string;
  /** 1-based sample number; 1 when the task has no `samples`. */
  readonly sample: number;
  readonly environment: readonly EnvVar[];
  readonly priority: number;
  /** Timeouts resolved for each level, Spread's `WarnTimeoutFor(context)`. */
  readonly timeouts: Readonly<Record<HookLevel, Timeouts>>;
  /** `deadlock-timeout`, resolved: how long the hosts may all wait with none able to go on; -1: never. */
  readonly deadlockTimeout?: DurationMs;
  /** The per-job scripts, joined across levels as Spread joins them. */
  readonly scripts: {
    /** project prepare-each, backend prepare-each, suite prepare-each, task prepare */
    readonly prepare: string;
    readonly execute: string;
    /** task restore, suite restore-each, backend restore-each, project restore-each */
    readonly restore: string;
    /** task debug, suite debug-each, backend debug-each, project debug-each */
    readonly debug: string;
  };
  /** Roles of a multi-host job; absent for a single-host job. */
  readonly hosts?: readonly HostRole[];
  /** Ports to reserve on the job's hosts before it starts; absent when none are asked for. */
  readonly ports?: readonly JobPort[];
}
