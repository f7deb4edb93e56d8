// The job body, Spread's repeat loop: prepare, execute, artifacts and
// restore on every host of the job, again for each -repeat, stopping at the
// first failure. A failure of several hosts is blamed on the one that caused
// it: the host whose failure poisoned the job's sync session (its link was
// cut, its relay died, its script failed first, it called `troupe-ctl fail`),
// else the first to fail.

import type { Job } from "../model/job.js";
import type { JobStatus, Phase } from "../report/events.js";
import { errorText } from "../util/text.js";
import type { RunContext } from "./context.js";
import { runLevelHook, type HookResult, type Seat } from "./hooks.js";
import type { JobSession } from "./job-session.js";
import type { Worker } from "./worker.js";

type Outcome = [JobStatus, string | undefined];

export async function runJobBody(
  ctx: RunContext,
  job: Job,
  seats: readonly Seat[],
  members: readonly Worker[],
  session: JobSession | undefined,
): Promise<Outcome> {
  const restoreOnly = ctx.modes.restore;
  let status: JobStatus = restoreOnly ? "skipped" : "passed";
  let reason: string | undefined = restoreOnly ? "restore only" : undefined;
  const where = (s: Seat): string => (s.multi ? ` on ${s.assignment.name}` : "");
  const failedHook = (phase: Phase, s: Seat, r: HookResult): void =>
    ctx.tally.hookFailed({
      phase,
      level: "task",
      context: job.name,
      host: s.host.name,
      ...(s.multi ? { as: s.assignment.name } : {}),
      error: r.error,
    });
  const onAll = (phase: Phase, script: (s: Seat) => string): Promise<Failed[]> =>
    failures(seats, session, (s) => runLevelHook(ctx, s.worker, job, "task", phase, script(s), s.debug, s));

  for (let repeat = ctx.options.repeat ?? 0; repeat >= 0; repeat--) {
    if (restoreOnly) {
      repeat = -1;
    } else if (ctx.stopping) {
      if (status === "passed") [status, reason] = ["aborted", "interrupted"];
      break;
    } else {
      const prep = await onAll("prepare", (s) => s.scripts.prepare);
      const called = jobFailure(session);
      if (prep.length > 0 || called) {
        const real = prep.filter(([r]) => !r.interrupted);
        for (const [r, s] of real) failedHook("prepare", s, r);
        [status, reason] = called
          ? ["aborted", `prepare failed${called.on}: ${called.why}`]
          : real[0]
            ? ["aborted", `prepare failed${where(real[0][1])}: ${real[0][0].error ?? ""}`]
            : ["aborted", "interrupted"];
        for (const s of seats) s.debug = "";
        repeat = -1;
      } else if (ctx.stopping) {
        [status, reason] = ["aborted", "interrupted"];
        repeat = -1;
      } else {
        const exec = await onAll("execute", (s) => s.scripts.execute);
        const called = jobFailure(session);
        if (exec.length > 0 || called) {
          const real = exec.find(([r]) => !r.interrupted);
          [status, reason] = called
            ? ["failed", `execute failed${called.on}: ${called.why}`]
            : real
              ? ["failed", `execute failed${where(real[1])}: ${real[0].error ?? ""}`]
              : ["aborted", "interrupted"];
          for (const s of seats) s.debug = "";
          repeat = -1;
        }
      }
    }

    const abend = members.some((w) => w.abend);
    const fetch = ctx.options.fetchArtifacts;
    if (!abend && !restoreOnly && !ctx.hard && repeat <= 0 && fetch) {
      for (const s of seats) {
        try {
          // A job with `hosts:`: each host's artifacts in a folder of its own.
          await fetch(job, s.host, job.hosts?.length ? s.assignment.name : undefined);
        } catch (err) {
          ctx.events.message("error", `Cannot fetch artifacts of ${job.name}${where(s)}: ${errorText(err)}`);
          ctx.tally.hookFailed({
            phase: "artifacts",
            level: "task",
            context: job.name,
            host: s.host.name,
            ...(s.multi ? { as: s.assignment.name } : {}),
            error: errorText(err),
          });
        }
      }
    }
    if (abend) {
      // -abend: leave everything as it is for inspection, on every host of the job.
      for (const w of members) w.abend = true;
      break;
    }
    if (ctx.hard) break;
    const restored = await onAll("restore", (s) => s.scripts.restore);
    for (const [r, s] of restored) {
      if (r.interrupted) continue;
      failedHook("restore", s, r);
      ctx.markBroken(s.worker, `restore of ${job.name} failed`);
      repeat = -1;
    }
    if (restored.some(([r]) => r.interrupted)) break;
  }
  return [status, reason];
}

type Failed = [HookResult, Seat];

/**
 * A host that called `troupe-ctl fail REASON` failed the job on purpose: the
 * job's failure is that host's and REASON its message, whether or not its
 * own script went on to fail (with troupe-ctl's 125) and whoever else's
 * waits it poisoned. A poison with a code (E_DEADLOCK) is the job's own failure.
 */
function jobFailure(session: JobSession | undefined): { on: string; why: string } | undefined {
  const p = session?.poisoned?.();
  if (p?.code) return { on: "", why: p.reason };
  return p?.called ? { on: ` on ${p.host}`, why: `troupe-ctl fail: ${p.reason}` } : undefined;
}

/**
 * Run `f` on every seat at once; the failures, the cause first: the host
 * that poisoned the job's session (for a single host, just its failure),
 * then the others in the order they failed (the later ones' waits were
 * poisoned by the first).
 */
async function failures(seats: readonly Seat[], session: JobSession | undefined, f: (s: Seat) => Promise<HookResult>): Promise<Failed[]> {
  const results = await Promise.all(seats.map(async (s) => [await f(s), s] as Failed));
  const failed = results.filter(([r]) => !r.ok);
  if (failed.length < 2) return failed;
  const origin = session?.poisoned?.()?.host;
  const rank = ([r, s]: Failed): number => (s.assignment.name === origin ? -1 : (r.failed ?? 0));
  return failed.sort((a, b) => rank(a) - rank(b));
}
