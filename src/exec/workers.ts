// A worker's life, as Spread's worker loop lives it: its host is allocated
// and sent the project; before each job it is brought into the job's suite
// (the suite it leaves restored, project and backend prepared the first
// time, the new suite prepared); when nothing is left for it, it leaves
// every level it is inside (restores, unless -abend or a second interrupt)
// and its host is discarded.

import type { Job } from "../model/job.js";
import { errorText } from "../util/text.js";
import type { RunContext } from "./context.js";
import { contextOf, runLevelHook } from "./hooks.js";
import { missingShell } from "./shell-check.js";
import type { Worker } from "./worker.js";

/** Tries at a new host whose project cannot be sent, as Spread's worker makes them. */
const SEND_TRIES = 3;

/**
 * Allocate the worker's host and send it the project; the worker ends idle,
 * or done if it got no host. A new host the project cannot be sent to (its
 * `path` is not empty, the copy failed) is discarded and another allocated,
 * three times at most, as Spread does; a reused one is broken.
 */
export async function startWorker(ctx: RunContext, w: Worker): Promise<"idle" | "leave" | "none"> {
  const bundle = ctx.options.bundle;
  for (let attempt = 1; ; attempt++) {
    if (ctx.stopping) return "none";
    try {
      w.host = await ctx.pool.allocate({
        backend: w.backend,
        system: w.system,
        index: w.index,
        ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
      });
    } catch (err) {
      if (!ctx.stopping) ctx.events.message("error", `Cannot allocate ${w.key}: ${errorText(err)}`);
      return "none";
    }
    if (ctx.stopping) return "leave";
    if (!bundle) break;
    try {
      // A Spread project's path must be empty on a new host, as Spread wants it.
      await ctx.pool.push(w.host, bundle, { requireEmpty: ctx.options.jobs[0]?.project.flavour === "spread" });
      break;
    } catch (err) {
      const why = `cannot send project content: ${errorText(err)}`;
      if (w.host.reused || ctx.stopping || attempt >= SEND_TRIES) {
        if (!ctx.stopping && attempt >= SEND_TRIES && !w.host.reused) {
          ctx.events.message("error", `Cannot allocate ${w.key} after too many retries.`);
        }
        ctx.markBroken(w, why);
        break;
      }
      await ctx.pool.discard(w.host, why);
      w.host = undefined;
    }
  }
  const shell = ctx.options.jobs[0]?.project.shell;
  if (shell && !w.broken && !ctx.stopping) {
    const missing = await missingShell(w.host, shell);
    if (missing) ctx.markBroken(w, missing);
  }
  return ctx.stopping || w.broken ? "leave" : "idle";
}

/**
 * Bring the worker into the job's suite. Returns why the job cannot run on
 * it, or undefined when it can.
 */
export async function enterSuite(ctx: RunContext, w: Worker, job: Job): Promise<string | undefined> {
  const host = w.label;
  const restoreOnly = ctx.modes.restore;
  if (w.badSuites.has(job.suite.name)) return `suite ${job.suite.name} failed to prepare on ${host}`;
  if (w.insideSuite && w.insideSuite.name !== job.suite.name && w.last) {
    const last = w.last;
    const suite = w.insideSuite;
    const r = await runLevelHook(ctx, w, last, "suite", "restore", suite.restore ?? "", suite.debug ?? "");
    if (!r.ok) {
      if (r.interrupted) return "interrupted";
      ctx.tally.hookFailed({ phase: "restore", level: "suite", context: contextOf(w, last, "suite"), host: w.label, error: r.error });
      ctx.markBroken(w, `restore of suite ${suite.name} failed`);
      return `restore of suite ${suite.name} failed on ${host}`;
    }
    w.insideSuite = undefined;
  }
  w.last = job;
  if (!w.insideProject) {
    w.insideProject = true;
    const p = job.project;
    const r = restoreOnly ? undefined : await runLevelHook(ctx, w, job, "project", "prepare", p.prepare ?? "", p.debug ?? "");
    if (r && !r.ok) {
      if (r.interrupted) return "interrupted";
      ctx.tally.hookFailed({ phase: "prepare", level: "project", context: contextOf(w, job, "project"), host: w.label, error: r.error });
      ctx.markBroken(w, "project prepare failed");
      return `project prepare failed on ${host}`;
    }
    w.insideBackend = true;
    const b = w.backend;
    const rb = restoreOnly ? undefined : await runLevelHook(ctx, w, job, "backend", "prepare", b.prepare ?? "", b.debug ?? "");
    if (rb && !rb.ok) {
      if (rb.interrupted) return "interrupted";
      ctx.tally.hookFailed({ phase: "prepare", level: "backend", context: contextOf(w, job, "backend"), host: w.label, error: rb.error });
      ctx.markBroken(w, `backend ${b.name} prepare failed`);
      return `backend prepare failed on ${host}`;
    }
  }
  if (w.insideSuite?.name !== job.suite.name) {
    w.insideSuite = job.suite;
    const s = job.suite;
    const r = restoreOnly ? undefined : await runLevelHook(ctx, w, job, "suite", "prepare", s.prepare ?? "", s.debug ?? "");
    if (r && !r.ok) {
      if (r.interrupted) return "interrupted";
      ctx.tally.hookFailed({ phase: "prepare", level: "suite", context: contextOf(w, job, "suite"), host: w.label, error: r.error });
      w.badSuites.add(s.name);
      return `suite prepare failed on ${host}`;
    }
  }
  return undefined;
}

/** Leave the worker: suite, backend and project restore (unless -abend or a second interrupt), then discard its host. */
export async function leaveWorker(ctx: RunContext, w: Worker): Promise<void> {
  try {
    const last = w.last;
    if (w.host && last && !w.abend) {
      // Inside out, as Spread leaves them; a second interrupt skips what is left.
      const suite = w.insideSuite;
      if (suite && !ctx.hard) await restoreLevel(ctx, w, last, "suite", suite.restore, suite.debug);
      w.insideSuite = undefined;
      if (w.insideBackend && !ctx.hard) await restoreLevel(ctx, w, last, "backend", w.backend.restore, w.backend.debug);
      w.insideBackend = false;
      if (w.insideProject && !ctx.hard) await restoreLevel(ctx, w, last, "project", last.project.restore, last.project.debug);
      w.insideProject = false;
    }
  } catch (err) {
    ctx.events.message("error", `Error leaving ${w.label}: ${errorText(err)}`);
  }
  if (w.host) {
    const reason = w.broken ? `broken: ${w.broken}` : w.abend ? "abend" : ctx.stopping ? "interrupted" : undefined;
    await ctx.pool.discard(w.host, reason);
  }
}

/** One level's restore when a worker leaves it; a failure is tallied (an interrupted one is not a failure). */
async function restoreLevel(
  ctx: RunContext,
  w: Worker,
  last: Job,
  level: "suite" | "backend" | "project",
  script: string | undefined,
  debug: string | undefined,
): Promise<void> {
  const r = await runLevelHook(ctx, w, last, level, "restore", script ?? "", debug ?? "");
  if (!r.ok && !r.interrupted)
    ctx.tally.hookFailed({ phase: "restore", level, context: contextOf(w, last, level), host: w.label, error: r.error });
}
