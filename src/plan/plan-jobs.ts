// The test matrix: every job of a project, as Spread's Project.Jobs
// (spread/project.go) computes it, in Spread's stable order.
//
// For each suite, task, backend and system (after the cascading `backends:`
// and `systems:` lists), the variants come from the variant keys of the
// environments and the `variants:` lists of every level; each variant makes
// `samples` jobs. Filters select by name; `manual` items drop out unless the
// filters select nothing but manual items at that level. The environment of a
// job is SPREAD_* first, then project, backend, system, suite and task
// entries (a later level's key moves to its place), with `$(HOST:cmd)`
// replaced, and finally the variant selected.

import { posix } from "node:path";
import type { EnvVar, Job } from "../model/job.js";
import type { Backend, EnvEntry, Project, Suite, System, Task } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { TroupeError } from "../util/errors.js";
import { envVariants, OrderedEnv } from "./environment.js";
import { parseFilters, type Filter } from "./filter.js";
import { checkHostCounts } from "./hosts.js";
import { jobPorts } from "./ports.js";
import { HostCommandCache, type HostCommand } from "./host-commands.js";
import { evalLists, type NameList } from "./lists.js";
import { jobScripts } from "./scripts.js";
import { sortJobs } from "./sort.js";
import { resolveDeadlockTimeout, resolveTimeouts } from "./timeouts.js";

export interface PlanOptions {
  /** Spread-style filter arguments; none (or an empty list) selects every non-manual job. */
  readonly filters?: readonly string[];
  /** Runs `$(HOST:cmd)` on the orchestrator; each distinct command runs once per plan. */
  readonly hostCommand?: HostCommand;
  /** Outputs of `$(HOST:cmd)` already known, shared and filled in (e.g. across planJobs and resolveSettings of one run). */
  readonly hostCache?: Map<string, string>;
}

/** Names of entities as Spread prints them in errors. */
export const describe = {
  project: (): string => "project",
  backend: (b: Backend): string => `backend "${b.name}"`,
  system: (s: System): string => `system ${s.backend}:${s.name}`,
  suite: (s: Suite): string => `suite ${s.name}`,
  task: (t: Task): string => `task ${t.name}`,
};

interface Candidate {
  readonly name: string;
  readonly project: Project;
  readonly backend: Backend;
  readonly system: System;
  readonly suite: Suite;
  readonly task: Task;
  readonly variant: string;
  readonly sample: number;
  readonly priority: number;
}

/** Every job the filters select, in Spread's stable order. Throws TroupeError (E_PROJECT, E_FILTER). */
export function planJobs(project: Project, options: PlanOptions = {}): Job[] {
  const filters = options.filters ?? [];
  const filter = filters.length > 0 ? parseFilters(filters) : undefined;
  const cache = new HostCommandCache(options.hostCommand, options.hostCache);
  const remotePath = resolveRemotePath(project, cache);

  const candidates = selectManual(expandMatrix(project, filter), filter !== undefined);
  if (candidates.length === 0) {
    if (filter) throw new TroupeError("E_FILTER", `nothing matches the filters: ${filters.join(" ")}`);
    throw new TroupeError("E_PROJECT", { pos: project.pos, message: "cannot find any tasks" });
  }
  sortJobs(candidates);

  const envs = new LevelEnvs(cache);
  return candidates.map((c): Job => {
    checkHostCounts(project, c.backend, c.system, c.task);
    const env = new OrderedEnv();
    for (const [k, v] of spreadVars(project, remotePath, c)) env.set(k, v);
    for (const [k, v] of envs.of(project, describe.project(), project.environment)) env.set(k, v);
    for (const [k, v] of envs.of(c.backend, describe.backend(c.backend), c.backend.environment)) env.set(k, v);
    for (const [k, v] of envs.of(c.system, describe.system(c.system), c.system.environment)) env.set(k, v);
    for (const [k, v] of envs.of(c.suite, describe.suite(c.suite), c.suite.environment)) env.set(k, v);
    for (const [k, v] of envs.of(c.task, describe.task(c.task), c.task.environment)) env.set(k, v);
    const environment: EnvVar[] = env.variant(c.variant).entries();
    const ports = jobPorts({
      taskName: c.task.name,
      ports: c.task.ports,
      hosts: c.task.hosts,
      environment,
      envLevels: [c.task.environment, c.suite.environment, c.system.environment, c.backend.environment, project.environment],
      fallbackPos: c.task.pos,
    });
    const job: Job = {
      name: c.name,
      project,
      backend: c.backend,
      system: c.system,
      suite: c.suite,
      task: c.task,
      variant: c.variant,
      sample: c.sample,
      environment,
      priority: c.priority,
      timeouts: resolveTimeouts(project, c.backend, c.system, c.suite, c.task),
      deadlockTimeout: resolveDeadlockTimeout(project, c.backend, c.system, c.suite, c.task),
      scripts: jobScripts(project, c.backend, c.suite, c.task),
      ...(c.task.hosts && c.task.hosts.length > 0 ? { hosts: c.task.hosts } : {}),
      ...(ports ? { ports } : {}),
    };
    return job;
  });
}

/** Spread's job name: `backend:system:suite/task[:variant][#sample]`. */
export function jobName(backend: string, system: string, task: string, variant: string, sample: number, samples: number): string {
  let name = variant === "" ? `${backend}:${system}:${task}` : `${backend}:${system}:${task}:${variant}`;
  if (samples > 1) name += `#${sample}`;
  return name;
}

function samplesOf(task: Task): number {
  const n = task.samples ?? 0;
  return n === 0 ? 1 : n;
}

function firstDefined(...values: readonly (number | undefined)[]): number {
  for (const v of values) if (v !== undefined) return v;
  return 0;
}

function list(items: readonly string[] | undefined, context: string, pos: SourcePos | undefined): NameList {
  return { items: items ?? [], context, ...(pos ? { pos } : {}) };
}

function envKeys(entries: readonly EnvEntry[]): string[] {
  return entries.map((e) => e.key);
}

/** Every job before the manual rule, filtered by name; in no particular order. */
function expandMatrix(project: Project, filter: Filter | undefined): Candidate[] {
  const out: Candidate[] = [];
  const backendsByName = new Map(project.backends.map((b) => [b.name, b]));
  const pBackends = list(
    project.backends.map((b) => b.name),
    describe.project(),
    project.pos,
  );
  const pEnvVariants = list(envVariants(envKeys(project.environment), ""), describe.project(), project.pos);
  const pVariants = list(project.variants, describe.project(), project.where["variants"] ?? project.pos);

  for (const suite of project.suites) {
    const sw = suite.where;
    const sdesc = describe.suite(suite);
    const sEnvVariants = list(envVariants(envKeys(suite.environment), "+"), sdesc, suite.pos);
    const sVariants = list(suite.variants, sdesc, sw["variants"] ?? suite.pos);
    const sBackends = list(suite.backends, sdesc, sw["backends"] ?? suite.pos);
    const sSystems = list(suite.systems, sdesc, sw["systems"] ?? suite.pos);

    for (const task of suite.tasks) {
      const tw = task.where;
      const tdesc = describe.task(task);
      const tEnvVariants = list(envVariants(envKeys(task.environment), "+"), tdesc, task.pos);
      const tVariants = list(task.variants, tdesc, tw["variants"] ?? task.pos);
      const tBackends = list(task.backends, tdesc, tw["backends"] ?? task.pos);
      const tSystems = list(task.systems, tdesc, tw["systems"] ?? task.pos);
      const samples = samplesOf(task);

      for (const bname of evalLists("backends", [pBackends, sBackends, tBackends])) {
        // A name no backend has (say, from a shared suite list) is not for this project.
        const backend = backendsByName.get(bname);
        if (!backend) continue;
        const bdesc = describe.backend(backend);
        const bSystems = list(
          backend.systems.map((s) => s.name),
          bdesc,
          backend.pos,
        );
        const bEnvVariants = list(envVariants(envKeys(backend.environment), "+"), bdesc, backend.pos);
        const bVariants = list(backend.variants, bdesc, backend.where["variants"] ?? backend.pos);

        for (const sysname of evalLists("systems", [bSystems, sSystems, tSystems])) {
          // Systems of other backends, named in suite or task lists, are not for us.
          const system = backend.systems.find((s) => s.name === sysname);
          if (!system) continue;
          const ydesc = describe.system(system);
          const yEnvVariants = list(envVariants(envKeys(system.environment), "+"), ydesc, system.pos);
          const yVariants = list(system.variants, ydesc, system.where["variants"] ?? system.pos);

          const priority = firstDefined(task.priority, suite.priority, system.priority, backend.priority, project.priority);
          const variants = evalLists("variants", [
            pEnvVariants,
            pVariants,
            bEnvVariants,
            bVariants,
            yEnvVariants,
            yVariants,
            sEnvVariants,
            sVariants,
            tEnvVariants,
            tVariants,
          ]);

          for (const variant of variants) {
            if (variant === "" && variants.size > 1) continue;
            for (let sample = 1; sample <= samples; sample++) {
              const name = jobName(backend.name, system.name, task.name, variant, sample, samples);
              if (filter && !filter.pass({ name, sample })) continue;
              out.push({ name, project, backend, system, suite, task, variant, sample, priority });
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Spread's manual rule, level by level (project, backend, system, suite,
 * task; the project level is troupe's): a manual item stays only when there is a filter and every job the
 * filter selected is manual at that level. Without a filter, manual items
 * never run.
 */
export function selectManual<T extends Pick<Job, "project" | "backend" | "system" | "suite" | "task">>(
  jobs: readonly T[],
  hasFilter: boolean,
): T[] {
  const levels: readonly ((j: T) => boolean | undefined)[] = [
    (j) => j.project.manual,
    (j) => j.backend.manual,
    (j) => j.system.manual,
    (j) => j.suite.manual,
    (j) => j.task.manual,
  ];
  const keepManual = levels.map((isManual) => hasFilter && jobs.every((j) => isManual(j) === true));
  return jobs.filter((j) => levels.every((isManual, i) => keepManual[i] || isManual(j) !== true));
}

/** Each level's environment entries with `$(HOST:cmd)` replaced, computed once per entity. */
class LevelEnvs {
  private readonly done = new Map<object, readonly (readonly [string, string])[]>();

  constructor(private readonly cache: HostCommandCache) {}

  of(entity: object, context: string, entries: readonly EnvEntry[]): readonly (readonly [string, string])[] {
    let out = this.done.get(entity);
    if (!out) {
      out = entries.map((e) => [e.key, this.cache.expand(e.value, `${context} environment`, e.pos)] as const);
      this.done.set(entity, out);
    }
    return out;
  }
}

/** The SPREAD_* variables Spread puts first in every job's environment. */
function spreadVars(project: Project, remotePath: string, c: Candidate): [string, string][] {
  return [
    ["SPREAD_JOB", c.name],
    ["SPREAD_PROJECT", project.name],
    ["SPREAD_PATH", remotePath],
    ["SPREAD_BACKEND", c.backend.name],
    ["SPREAD_SYSTEM", c.system.name],
    ["SPREAD_SUITE", c.suite.name],
    ["SPREAD_TASK", c.task.name],
    ["SPREAD_VARIANT", c.variant],
    ["SPREAD_SAMPLE", String(c.sample)],
  ];
}

/** Spread's remote project path: `$(HOST:...)` replaced, cleaned, absolute and not `/`. */
export function resolveRemotePath(project: Project, cache: HostCommandCache): string {
  const pos = project.where["path"] ?? project.pos;
  const value = cache.expand(project.remotePath, "remote project path", pos);
  let clean = posix.normalize(value === "" ? "." : value);
  if (clean.length > 1 && clean.endsWith("/")) clean = clean.slice(0, -1);
  if (!posix.isAbsolute(clean) || clean === "/") {
    throw new TroupeError("E_PROJECT", {
      pos,
      path: "path",
      message: `remote project path must be absolute and not /: ${clean}`,
    });
  }
  return clean;
}
