// Opening a project and planning its jobs: the first two stages of the engine.

import { dirname } from "node:path";
import { loadProject } from "../config/index.js";
import { planJobs, resolveSettings, type ResolvedSettings } from "../plan/index.js";
import { planWithHostCommands } from "../plan/host-commands.js";
import type { Job } from "../model/job.js";
import type { Project } from "../model/project.js";
import { makeAsyncHostCommand } from "./host-command.js";
import { formatProblem, type Problem } from "../util/errors.js";
import { jobSecrets, loginSecrets } from "../secrets/marking.js";
import { addSecret } from "../secrets/registry.js";

export interface OpenOptions {
  /** Where to search for the project file (upwards). Default: the current directory. */
  readonly cwd?: string;
  /** An explicit project file. */
  readonly file?: string;
  /** Problems that do not stop loading (keys Spread ignores in a spread.yaml); printed to stderr by default. */
  readonly onWarning?: (warning: Problem) => void;
}

export async function openProject(options: OpenOptions = {}): Promise<Project> {
  const onWarning = options.onWarning ?? ((w: Problem) => process.stderr.write(`warning: ${formatProblem(w)}\n`));
  return loadProject({ cwd: options.cwd ?? process.cwd(), ...(options.file ? { file: options.file } : {}), onWarning });
}

export interface PlanRequest {
  readonly filters?: readonly string[];
  /** Kills a `$(HOST:cmd)` still running and stops planning (E_INTERRUPTED). */
  readonly signal?: AbortSignal;
}

/** Every job of the project that the filters select, in Spread's stable order. */
export async function plan(project: Project, request: PlanRequest = {}): Promise<Job[]> {
  return (await planFully(project, request)).jobs;
}

export interface FullPlan {
  readonly jobs: Job[];
  /** Project-wide values evaluated on the orchestrator: include/exclude/rename, keys, the repack environment. */
  readonly settings: ResolvedSettings;
}

/**
 * The jobs and the project-wide settings, sharing one `$(HOST:cmd)` cache.
 * Host commands run off the event loop, each once, stopped by their timeout
 * (TROUPE_HOST_COMMAND_TIMEOUT) or by `signal`.
 */
export async function planFully(project: Project, request: PlanRequest = {}): Promise<FullPlan> {
  const run = makeAsyncHostCommand({ cwd: dirname(project.file), ...(request.signal ? { signal: request.signal } : {}) });
  const plan = await planWithHostCommands((hostCommand, hostCache) => {
    const jobs = planJobs(project, { filters: request.filters ?? [], hostCommand, hostCache });
    return { jobs, settings: resolveSettings(project, jobs, { hostCommand, hostCache }) };
  }, run);
  // Known before anything runs, so that nothing prints them.
  for (const value of loginSecrets(project, plan.settings.systems)) addSecret(value);
  for (const job of plan.jobs) for (const value of jobSecrets(job)) addSecret(value);
  return plan;
}
