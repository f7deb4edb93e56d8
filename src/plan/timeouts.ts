// Timeouts per hook level, as Spread's Job.WarnTimeoutFor / KillTimeoutFor
// (spread/project.go) pick them and its client (spread/client.go) defaults
// them: the first level, from the script's own outwards, that sets a non-zero
// value wins; nothing set means 5 minutes to warn and 15 to kill; a negative
// value (Spread's -1) means never.
//
// Spread has no timeouts on systems; troupe's model allows them, and they sit
// between the suite and the backend, the place a system has in the priority
// cascade. A Spread project never sets them, so its meaning is unchanged.

import type { HookLevel, Timeouts } from "../model/job.js";
import type { Backend, DurationMs, Project, Suite, System, Task } from "../model/project.js";

export const DEFAULT_WARN_TIMEOUT: DurationMs = 5 * 60_000;
export const DEFAULT_KILL_TIMEOUT: DurationMs = 15 * 60_000;
/** The value that means "no timeout". */
export const NO_TIMEOUT: DurationMs = -1;

function first(values: readonly (DurationMs | undefined)[], fallback: DurationMs): DurationMs {
  for (const v of values) {
    if (v === undefined || v === 0 || Number.isNaN(v)) continue;
    return v < 0 ? NO_TIMEOUT : v;
  }
  return fallback;
}

/** How long every host of a multi-host job may wait with none able to go on, when no level says (`deadlock-timeout`). */
export const DEFAULT_DEADLOCK_TIMEOUT: DurationMs = 30_000;

/** `deadlock-timeout`: the task's, else its suite's, system's, backend's, project's; -1 (never) as written. */
export function resolveDeadlockTimeout(project: Project, backend: Backend, system: System, suite: Suite, task: Task): DurationMs {
  return first(
    [task, suite, system, backend, project].map((e) => e.deadlockTimeout),
    DEFAULT_DEADLOCK_TIMEOUT,
  );
}

export function resolveTimeouts(project: Project, backend: Backend, system: System, suite: Suite, task: Task): Record<HookLevel, Timeouts> {
  const chain: Record<HookLevel, readonly { warnTimeout?: DurationMs; killTimeout?: DurationMs }[]> = {
    task: [task, suite, system, backend, project],
    suite: [suite, system, backend, project],
    backend: [system, backend, project],
    project: [project],
  };
  const out = {} as Record<HookLevel, Timeouts>;
  for (const level of ["project", "backend", "suite", "task"] as const) {
    out[level] = {
      warn: first(
        chain[level].map((e) => e.warnTimeout),
        DEFAULT_WARN_TIMEOUT,
      ),
      kill: first(
        chain[level].map((e) => e.killTimeout),
        DEFAULT_KILL_TIMEOUT,
      ),
    };
  }
  return out;
}
