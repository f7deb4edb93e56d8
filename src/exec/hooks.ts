// The hook policy: Spread's Runner.run around one script of a level. Runs the
// script (blank: nothing to do); on failure runs the level's debug script,
// opens the debugging shell when asked (-debug, -shell-after), stops the
// worker with -abend, marks the host broken on FATAL or a lost connection,
// and poisons the job's sync session. -shell and -shell-before open their
// shell instead of, or before, the execute script. The job's sync session is
// told when a host runs a script of the job and when it stops (deadlock
// detection: a host that runs none can release nobody).

import { posix } from "node:path";
import type { Host } from "../backends/backend.js";
import type { Job } from "../model/job.js";
import type { Level, Phase } from "../report/events.js";
import { errorText } from "../util/text.js";
import type { RunContext } from "./context.js";
import { runHook } from "./hook-runner.js";
import { jobVars, mergeVars } from "./host-vars.js";
import type { HostAssignment, JobSession } from "./job-session.js";
import { buildShellScript, type VarList } from "./prelude.js";
import type { TaskScripts } from "./roles.js";
import type { Worker } from "./worker.js";

/** One host of a running job. */
export interface Seat {
  readonly worker: Worker;
  readonly host: Host;
  readonly assignment: HostAssignment;
  readonly scripts: TaskScripts;
  /** The task's debug script; cleared once it ran for a failure, as Spread does. */
  debug: string;
  vars: VarList;
  session?: JobSession;
  /** More than one host: name the host in failure lists. */
  readonly multi: boolean;
}

export interface HookResult {
  readonly ok: boolean;
  /** Killed by an interrupt: not a failure of the script. */
  readonly interrupted: boolean;
  readonly error?: string;
  /** For a failure: its rank in the run (1 = first), so that a gang's first failure is known. */
  readonly failed?: number;
  /** The host could not be reached: the failure is the machine's, not the script's. */
  readonly unreachable?: boolean;
}

const OK: HookResult = { ok: true, interrupted: false };

/** Spread's job.StringFor(context), with the host's own backend and system. */
export function contextOf(w: Worker, job: Job, level: Level): string {
  const bs = `${w.backend.name}:${w.system.name}`;
  if (level === "project" || level === "backend") return bs;
  if (level === "suite") return `${bs}:${job.suite.name}`;
  return job.name;
}

function dirOf(host: Host, job: Job, level: Level): string {
  return level === "project" || level === "backend" ? host.projectPath : posix.join(host.projectPath, job.task.name);
}

/** Run one level's script on the worker's host, with Spread's policy around it. */
export async function runLevelHook(...args: Parameters<typeof runScriptOfLevel>): Promise<HookResult> {
  const [ctx, , , , , , , seat] = args;
  // Even for a blank script: the host then runs nothing of this phase.
  const running = (yes: boolean): void => {
    try {
      seat?.session?.hostRunning?.(seat.assignment, yes);
    } catch (err) {
      ctx.events.message("error", `sync session: ${errorText(err)}`);
    }
  };
  running(true);
  try {
    return await runScriptOfLevel(...args);
  } finally {
    running(false);
  }
}

async function runScriptOfLevel(
  ctx: RunContext,
  w: Worker,
  job: Job,
  level: Level,
  phase: Phase,
  script: string,
  debug: string,
  seat?: Seat,
): Promise<HookResult> {
  const host = w.host!;
  if (script.trim() === "") return OK;
  const { modes } = ctx;
  const context = contextOf(w, job, level);
  const dir = dirOf(host, job, level);
  const vars = mergeVars(jobVars(job, host), seat?.vars);
  const shellHere = (what: string): Promise<void> => openShell(ctx, host, job, dir, vars, what);

  if (phase === "execute" && (modes.shell || modes.shellBefore) && !ctx.stopping) {
    await shellHere(modes.shell ? `instead of executing ${job.name}` : `before executing ${job.name}`);
    if (modes.shell) return OK;
  }

  const reboot = ctx.pool.rebooter(host);
  const common = {
    events: ctx.events,
    host,
    backendType: ctx.pool.typeOf(host),
    ...(reboot ? { reboot } : {}),
    ...(seat?.session ? { sync: { session: seat.session, assignment: seat.assignment } } : {}),
    job: level === "task" ? job.name : context,
    context,
    level,
    dir,
    vars,
    environment: job.environment,
    shell: job.project.shell,
    fatal: job.project.flavour !== "spread",
    timeouts: job.timeouts[level],
  };
  const signal = phase === "restore" ? ctx.restoreAbort.signal : ctx.scriptAbort.signal;
  const r = await runHook({ ...common, phase, script, signal });
  if (r.ok) {
    if (phase === "execute" && modes.shellAfter && !ctx.stopping) await shellHere(`after executing ${job.name}`);
    return OK;
  }
  const interrupted = r.failure?.kind === "interrupt";
  const unreachable = r.failure?.kind === "transport";
  const error = r.failure?.message ?? "failed";
  const failed = ++ctx.failures;
  if (seat?.session) {
    try {
      seat.session.hostFailed(seat.assignment, `${phase} ${level} failed on ${seat.assignment.name}: ${error}`);
    } catch (err) {
      ctx.events.message("error", `sync session: ${errorText(err)}`);
    }
  }
  if (interrupted) return { ok: false, interrupted, error, failed };
  if (r.marker?.kind === "FATAL") ctx.markBroken(w, `FATAL in ${phase} ${level} (${context}): ${error}`);
  if (unreachable) ctx.markBroken(w, error);
  if (debug.trim() !== "" && !ctx.stopping && !unreachable) {
    await runHook({ ...common, phase: "debug", script: debug, signal: ctx.scriptAbort.signal });
  }
  if ((modes.debug || modes.shellAfter) && !ctx.stopping && !unreachable) {
    await shellHere(`to debug ${phase} ${context}`);
  }
  if (modes.abend) w.abend = true;
  return { ok: false, interrupted, error, failed, ...(unreachable ? { unreachable } : {}) };
}

/** An interactive shell on the host, in the script's directory and environment; one at a time. */
async function openShell(ctx: RunContext, host: Host, job: Job, dir: string, vars: VarList, what: string): Promise<void> {
  await ctx.terminal.run(async () => {
    ctx.events.message("info", `Starting shell ${what} on ${host.name}...`);
    // The terminal is the shell's until it exits: writers stop drawing and hold their lines.
    ctx.events.emit({ type: "terminal", holder: "shell", host: host.name });
    try {
      await host.transport.exec({ script: buildShellScript({ dir, vars, environment: job.environment }), interactive: true });
    } catch (err) {
      ctx.events.message("error", `Error running debug shell on ${host.name}: ${errorText(err)}`);
    } finally {
      ctx.events.emit({ type: "terminal", holder: "troupe", host: host.name });
    }
    ctx.events.message("info", "Continuing...");
  });
}
