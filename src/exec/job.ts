// One job, from the moment its workers are picked to its result: every
// worker is brought into the job's suite, the hosts take their seats (which
// host plays which name and role), a multi-host job gets its sync session,
// the job body runs (job-body.ts), and the job's result is tallied.

import { MAX_JOB_KV, type JobKv } from "../report/events.js";
import { errorText } from "../util/text.js";
import type { RunContext } from "./context.js";
import type { Seat } from "./hooks.js";
import { assignmentVars, mergeVars } from "./host-vars.js";
import { runJobBody } from "./job-body.js";
import type { HostAssignment, JobSession } from "./job-session.js";
import type { QueuedJob } from "./queue.js";
import { scriptsForRole } from "./roles.js";
import type { Worker } from "./worker.js";
import { enterSuite } from "./workers.js";

export async function runJob(ctx: RunContext, entry: QueuedJob, members: Worker[]): Promise<void> {
  const { job } = entry;
  let startedAt: number | undefined;
  let session: JobSession | undefined;
  // Stops the job's sync session on an interrupt; made only for a job that opens one.
  let sessionAbort: AbortController | undefined;
  const onStop = (): void => sessionAbort?.abort();
  const closeSession = async (): Promise<void> => {
    const s = session;
    session = undefined;
    await s?.close().catch(() => undefined); // the job is over either way
  };
  try {
    const entered = await Promise.all(members.map((w) => enterSuite(ctx, w, job)));
    const why = entered.find((x) => x !== undefined);
    if (why !== undefined) return ctx.tally.finish(job, "aborted", undefined, why);
    if (ctx.stopping) return ctx.tally.finish(job, "aborted", undefined, "interrupted");

    const seats = seat(entry, members);
    startedAt = Date.now();
    ctx.events.emit({
      type: "job-started",
      job: job.name,
      hosts: seats.map((s) => s.host.name),
      ...(job.hosts?.length ? { roles: seats.map((s) => ({ host: s.host.name, name: s.assignment.name, role: s.assignment.role })) } : {}),
      seq: ++ctx.started,
      total: ctx.options.jobs.length,
    });

    // Only multi-host jobs (tasks with `hosts:`) and jobs that reserve ports
    // get a sync session: a single host has no one to wait for, and a relay
    // per job would cost.
    if (ctx.options.jobSession && (job.hosts?.length || job.ports?.length)) {
      sessionAbort = new AbortController();
      ctx.scriptAbort.signal.addEventListener("abort", onStop, { once: true });
      try {
        session = await ctx.options.jobSession(
          job,
          seats.map((s) => s.assignment),
          sessionAbort.signal,
        );
      } catch (err) {
        return ctx.tally.finish(job, "aborted", startedAt, `cannot open the job's sync session: ${errorText(err)}`);
      }
      for (const s of seats) {
        s.session = session;
        s.vars = mergeVars(s.vars, session.env(s.assignment));
      }
    }

    const [status, reason] = await runJobBody(ctx, job, seats, members, session);
    const kv = job.hosts?.length ? finalKv(session) : undefined;
    await closeSession();
    ctx.tally.finish(job, status, startedAt, reason, kv);
  } catch (err) {
    ctx.events.message("error", `Internal error running ${job.name}: ${errorText(err)}`);
    ctx.tally.finish(job, "aborted", startedAt, `internal error: ${errorText(err)}`);
  } finally {
    await closeSession();
    if (sessionAbort) {
      ctx.scriptAbort.signal.removeEventListener("abort", onStop);
      sessionAbort.abort();
    }
  }
}

/** The job's key-value store for its results: the first MAX_JOB_KV keys set; none when it is empty. */
function finalKv(session: JobSession | undefined): JobKv | undefined {
  const all = session?.kv?.() ?? [];
  if (all.length === 0) return undefined;
  return { entries: all.slice(0, MAX_JOB_KV), dropped: Math.max(0, all.length - MAX_JOB_KV) };
}

/** Put each worker of the gang in one of the job's slots. */
function seat(entry: QueuedJob, members: readonly Worker[]): Seat[] {
  const free = [...members];
  const multi = entry.slots.length > 1;
  const placed = entry.slots.map((slot) => {
    const i = free.findIndex((w) => w.key === slot.key);
    const w = free.splice(i, 1)[0]!;
    const host = w.host!;
    const assignment: HostAssignment = { host, role: slot.role, index: slot.index, name: slot.name || host.name };
    return { w, slot, assignment };
  });
  const all = placed.map((x) => x.assignment);
  return placed.map(({ w, slot, assignment }) => {
    const scripts = scriptsForRole(entry.job, slot.role);
    return { worker: w, host: w.host!, assignment, scripts, debug: scripts.debug, vars: assignmentVars(assignment, all), multi };
  });
}
