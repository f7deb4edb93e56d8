// The hosts a job needs: one slot per host, by role, and the scripts each
// role runs. A single-host job has one slot with role "".

import type { Job } from "../model/job.js";
import type { Backend, System } from "../model/project.js";
import { TroupeError } from "../util/errors.js";

export interface Slot {
  readonly role: string;
  /** 1-based within the role. */
  readonly index: number;
  /** The host's name in the job (`server`, `client-1`); "" for a single-host job (its host's name is used). */
  readonly name: string;
  readonly backend: Backend;
  readonly system: System;
  /** `backend:system`, the pool of workers the slot is filled from. */
  readonly key: string;
}

export function systemKey(backend: Backend | string, system: System | string): string {
  const b = typeof backend === "string" ? backend : backend.name;
  const s = typeof system === "string" ? system : system.name;
  return `${b}:${s}`;
}

/** Find `backend:system` or `system` (the job's own backend first, then any). */
function resolveSystem(job: Job, ref: string | undefined): { backend: Backend; system: System } {
  if (!ref) return { backend: job.backend, system: job.system };
  const colon = ref.indexOf(":");
  const backends = job.project.backends;
  if (colon >= 0) {
    const b = backends.find((x) => x.name === ref.slice(0, colon));
    const s = b?.systems.find((x) => x.name === ref.slice(colon + 1));
    if (b && s) return { backend: b, system: s };
  } else {
    for (const b of [job.backend, ...backends.filter((x) => x !== job.backend)]) {
      const s = b.systems.find((x) => x.name === ref);
      if (s) return { backend: b, system: s };
    }
  }
  throw new TroupeError("E_PROJECT", `${job.name}: no system "${ref}" for its hosts`);
}

export function slotsFor(job: Job): Slot[] {
  if (!job.hosts || job.hosts.length === 0) {
    return [{ role: "", index: 1, name: "", backend: job.backend, system: job.system, key: systemKey(job.backend, job.system) }];
  }
  const slots: Slot[] = [];
  for (const role of job.hosts) {
    const { backend, system } = resolveSystem(job, role.system);
    const count = Math.max(1, role.count);
    for (let i = 1; i <= count; i++) {
      slots.push({
        role: role.name,
        index: i,
        name: count === 1 ? role.name : `${role.name}-${i}`,
        backend,
        system,
        key: systemKey(backend, system),
      });
    }
  }
  return slots;
}

/** How many hosts of each `backend:system` the slots need. */
export function needsOf(slots: readonly Slot[]): Map<string, number> {
  const needs = new Map<string, number>();
  for (const s of slots) needs.set(s.key, (needs.get(s.key) ?? 0) + 1);
  return needs;
}

/** Spread's join: each non-empty script in its own subshell, blank-line separated. */
export function joinScripts(...scripts: (string | undefined)[]): string {
  return scripts
    .filter((s): s is string => !!s && s.length > 0)
    .map((s) => `(\n${s}\n)`)
    .join("\n\n");
}

export interface TaskScripts {
  readonly prepare: string;
  readonly execute: string;
  readonly restore: string;
  readonly debug: string;
}

/**
 * The task-level scripts a role runs: `task.roleScripts[hook][role]` replaces
 * the task's own script for that hook, joined with the -each scripts as
 * Spread joins them; without one, the job's scripts as planned.
 */
export function scriptsForRole(job: Job, role: string): TaskScripts {
  const own = (hook: string): string | undefined => (role ? job.task.roleScripts[hook]?.[role] : undefined);
  const prepare = own("prepare");
  const execute = own("execute");
  const restore = own("restore");
  const debug = own("debug");
  const { project: p, backend: b, suite: s } = job;
  return {
    prepare: prepare === undefined ? job.scripts.prepare : joinScripts(p.prepareEach, b.prepareEach, s.prepareEach, prepare),
    execute: execute ?? job.scripts.execute,
    restore: restore === undefined ? job.scripts.restore : joinScripts(restore, s.restoreEach, b.restoreEach, p.restoreEach),
    debug: debug === undefined ? job.scripts.debug : joinScripts(debug, s.debugEach, b.debugEach, p.debugEach),
  };
}
