// The plan made inspectable (`troupe list --json`): plain JSON, no object
// references, everything a reader needs to see what a job will run, where,
// with which environment and timeouts.

import type { HookLevel, Job, Timeouts } from "../model/job.js";
import { portEnvName } from "./ports.js";

export interface JobJSON {
  readonly name: string;
  readonly backend: string;
  readonly backendType: string;
  readonly system: string;
  readonly suite: string;
  readonly task: string;
  readonly variant: string;
  readonly sample: number;
  readonly priority: number;
  readonly environment: readonly { readonly key: string; readonly value: string }[];
  readonly scripts: {
    readonly project: { readonly prepare: string; readonly restore: string; readonly debug: string };
    readonly backend: { readonly prepare: string; readonly restore: string; readonly debug: string };
    readonly suite: { readonly prepare: string; readonly restore: string; readonly debug: string };
    readonly job: { readonly prepare: string; readonly execute: string; readonly restore: string; readonly debug: string };
    /** Per-role task scripts of a multi-host task, as written. */
    readonly roles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  };
  /** Milliseconds; -1 means no timeout. */
  readonly timeouts: Readonly<Record<HookLevel, Timeouts>>;
  readonly hosts?: readonly { readonly role: string; readonly count: number; readonly system?: string }[];
  /** Ports reserved before the job starts: name, the role or host listening (absent: every host), its variable. */
  readonly ports?: readonly { readonly name: string; readonly on?: string; readonly env: string }[];
}

export function jobToJSON(job: Job): JobJSON {
  const hooks = (h: { prepare?: string; restore?: string; debug?: string }) => ({
    prepare: h.prepare ?? "",
    restore: h.restore ?? "",
    debug: h.debug ?? "",
  });
  const roles = job.task.roleScripts;
  return {
    name: job.name,
    backend: job.backend.name,
    backendType: job.backend.type,
    system: job.system.name,
    suite: job.suite.name,
    task: job.task.name,
    variant: job.variant,
    sample: job.sample,
    priority: job.priority,
    environment: job.environment.map(({ key, value }) => ({ key, value })),
    scripts: {
      project: hooks(job.project),
      backend: hooks(job.backend),
      suite: hooks(job.suite),
      job: {
        prepare: job.scripts.prepare,
        execute: job.scripts.execute,
        restore: job.scripts.restore,
        debug: job.scripts.debug,
      },
      ...(roles && Object.keys(roles).length > 0 ? { roles } : {}),
    },
    timeouts: {
      project: { ...job.timeouts.project },
      backend: { ...job.timeouts.backend },
      suite: { ...job.timeouts.suite },
      task: { ...job.timeouts.task },
    },
    ...(job.hosts ? { hosts: job.hosts.map((h) => ({ role: h.name, count: h.count, ...(h.system ? { system: h.system } : {}) })) } : {}),
    ...(job.ports
      ? { ports: job.ports.map((p) => ({ name: p.name, ...(p.on !== undefined ? { on: p.on } : {}), env: portEnvName(p.name) })) }
      : {}),
  };
}
