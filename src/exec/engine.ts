// runJobs: Spread's runner (runner.go) on the event stream. Workers are hosts
// of the host pool; each keeps Spread's per-worker state (inside project,
// backend, suite). Whenever a worker is idle, the job queue (queue.ts) gives
// it its next job, a multi-host job taking a whole gang at once; the job
// (job.ts) runs on it; a worker with nothing left to do leaves (workers.ts).
// Interrupts: the first stops new jobs, kills running scripts and runs
// restores; the second skips restores too. Hosts are always discarded.

import { basename } from "node:path";
import type { Backend, System } from "../model/project.js";
import { errorText } from "../util/text.js";
import { RunContext } from "./context.js";
import { runJob } from "./job.js";
import type { RunOptions, RunOutcome } from "./options.js";
import { JobQueue } from "./queue.js";
import { workerCounts } from "./scheduler.js";
import { Worker } from "./worker.js";
import { leaveWorker, startWorker } from "./workers.js";

export async function runJobs(options: RunOptions): Promise<RunOutcome> {
  return new Run(options).run();
}

class Run {
  private readonly ctx: RunContext;
  private readonly queue = new JobQueue();
  private readonly workers: Worker[] = [];
  /** Keys of workers whose host could not be allocated. */
  private readonly unallocated: string[] = [];
  private dispatching = false;
  private redispatch = false;
  private readonly started = Date.now();
  private resolveDone!: () => void;
  private readonly done = new Promise<void>((r) => (this.resolveDone = r));

  constructor(private readonly options: RunOptions) {
    this.ctx = new RunContext(options);
  }

  async run(): Promise<RunOutcome> {
    const { options, ctx } = this;
    const { events } = ctx;
    const unplannable = this.queue.add(options.jobs);
    this.createWorkers();
    events.emit({
      type: "run-started",
      runId: options.runId ?? basename(options.runDir),
      dir: options.runDir,
      seed: options.seed ?? 0,
      jobs: options.jobs.length,
      workers: this.workers.length,
    });
    for (const [job, why] of unplannable) {
      events.message("error", why);
      ctx.tally.finish(job, "aborted", undefined, why);
    }

    const onSoft = (): void => this.interrupt(false);
    const onHard = (): void => this.interrupt(true);
    options.signal?.addEventListener("abort", onSoft, { once: true });
    options.hardSignal?.addEventListener("abort", onHard, { once: true });
    try {
      if (options.hardSignal?.aborted) this.interrupt(true);
      else if (options.signal?.aborted) this.interrupt(false);
      for (const w of this.workers) void this.start(w);
      this.dispatch();
      await this.done;
    } finally {
      options.signal?.removeEventListener("abort", onSoft);
      options.hardSignal?.removeEventListener("abort", onHard);
    }

    for (const job of this.queue.drain()) {
      ctx.tally.finish(job, "aborted", undefined, ctx.stopping ? "interrupted" : "not run: no host could take it");
    }
    const { tally } = ctx;
    const durationMs = Date.now() - this.started;
    const outcome = {
      jobs: tally.outcomes(),
      passed: tally.names("passed"),
      failed: tally.names("failed"),
      aborted: tally.names("aborted"),
      failedHooks: [...tally.failedHooks],
      interrupted: ctx.stopping,
      unallocated: [...this.unallocated],
      durationMs,
    };
    events.emit({
      type: "run-finished",
      passed: outcome.passed,
      failed: outcome.failed,
      aborted: outcome.aborted,
      failedHooks: outcome.failedHooks,
      durationMs,
      interrupted: outcome.interrupted,
    });
    const success = !outcome.interrupted && !outcome.failed.length && !outcome.aborted.length && !outcome.failedHooks.length;
    return { ...outcome, success };
  }

  /** One worker per host to come, per `backend:system`, as many as the jobs can use at once. */
  private createWorkers(): void {
    const systems = new Map<string, { backend: Backend; system: System }>();
    for (const [key, slot] of this.queue.systems()) systems.set(key, { backend: slot.backend, system: slot.system });
    // Every driver first: a backend troupe cannot run fails before any host comes up.
    this.ctx.pool.prepare([...systems.values()].map((s) => s.backend));
    const counts = workerCounts(this.queue.waiting(), (key) => {
      const s = systems.get(key);
      // A backend may know better (an ssh system: one worker per listed host).
      return s ? this.ctx.pool.workersFor(s.backend, s.system) : 1;
    });
    for (const [key, { backend, system }] of systems) {
      const c = counts.get(key);
      if (!c) continue;
      if (c.raised) {
        this.ctx.events.message(
          "warn",
          `${key} has workers: ${system.workers}, but a multi-host job needs ${c.count} of its hosts at once; using ${c.count}`,
        );
      }
      for (let i = 1; i <= c.count; i++) this.workers.push(new Worker(this.workers.length + 1, backend, system, i));
    }
  }

  private async start(w: Worker): Promise<void> {
    try {
      const next = await startWorker(this.ctx, w);
      if (next === "none") {
        if (!this.ctx.stopping) this.unallocated.push(w.key);
        w.state = "done";
      } else if (next === "leave") {
        await this.leave(w);
        return;
      } else {
        w.state = "idle";
      }
      this.dispatch();
    } catch (err) {
      this.internalError(`starting ${w.label}`, err, [w]);
    }
  }

  private async leave(w: Worker): Promise<void> {
    if (w.state === "finishing" || w.state === "done") return;
    w.state = "finishing";
    try {
      await leaveWorker(this.ctx, w);
    } finally {
      w.state = "done";
      this.dispatch();
    }
  }

  private async run1(entry: Parameters<typeof runJob>[1], members: Worker[]): Promise<void> {
    try {
      await runJob(this.ctx, entry, members);
    } catch (err) {
      this.internalError(`running ${entry.job.name}`, err, members);
      return;
    }
    this.queue.done(entry.job, members.length);
    for (const w of members) {
      if (w.broken || w.abend || this.ctx.stopping) void this.leave(w);
      else w.state = "idle";
    }
    this.dispatch();
  }

  /**
   * Something threw where nothing should (an event listener, a driver that
   * broke its contract): say so, give up on the workers involved (their
   * hosts are discarded best-effort) and keep the run going to its end.
   */
  private internalError(what: string, err: unknown, workers: readonly Worker[]): void {
    try {
      this.ctx.events.message("error", `Internal error ${what}: ${errorText(err)}`);
    } catch {
      /* a listener that throws on messages too: nothing more to say */
    }
    for (const w of workers) {
      if (w.state === "done") continue;
      w.state = "done";
      if (w.host) void this.ctx.pool.discard(w.host, "internal error");
    }
    try {
      this.dispatch();
    } catch {
      if (this.workers.every((x) => x.state === "done")) this.resolveDone();
    }
  }

  /** Hand jobs to idle workers; let workers with nothing left to do go. */
  private dispatch(): void {
    // Re-entrant calls (a worker that finishes without waiting) just ask for another pass.
    if (this.dispatching) {
      this.redispatch = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.redispatch = false;
        this.dispatchOnce();
      } while (this.redispatch);
    } finally {
      this.dispatching = false;
    }
  }

  private dispatchOnce(): void {
    const { ctx } = this;
    if (!ctx.stopping) {
      this.abortImpossible();
      for (const w of this.workers) {
        if (w.state !== "idle") continue;
        const idle = this.workers.filter((x) => x.state === "idle");
        const pick = this.queue.take(w, idle);
        if (!pick) continue;
        for (const m of pick.members) m.state = "busy";
        void this.run1(pick.entry, pick.members);
      }
    }
    for (const w of this.workers) {
      if (w.state === "idle" && (ctx.stopping || !this.queue.wants(w.key))) void this.leave(w);
    }
    if (this.workers.every((w) => w.state === "done")) this.resolveDone();
  }

  /** Abort pending jobs that need more hosts of a system than are left alive. */
  private abortImpossible(): void {
    const alive = new Map<string, number>();
    for (const w of this.workers) if (w.alive) alive.set(w.key, (alive.get(w.key) ?? 0) + 1);
    // Why the hosts of each system went: an aborted job says it, not only that none is left.
    const gone = new Map<string, string[]>();
    for (const w of this.workers) {
      if (w.alive || !w.broken) continue;
      gone.set(w.key, [...(gone.get(w.key) ?? []), `${w.label} broken: ${w.broken}`]);
    }
    for (const [job, why, system] of this.queue.dropImpossible(alive)) {
      const causes = gone.get(system);
      this.ctx.tally.finish(job, "aborted", undefined, causes ? `${why} (${causes.join("; ")})` : why);
    }
  }

  private interrupt(hard: boolean): void {
    const { ctx } = this;
    if (hard) {
      if (ctx.hard) return;
      ctx.hard = true;
      ctx.restoreAbort.abort();
    } else if (ctx.stopping) {
      return;
    }
    ctx.stopping = true;
    ctx.scriptAbort.abort();
    // -reuse: hosts are kept rather than discarded.
    const fate = ctx.pool.keepsAny ? "keeping" : "discarding";
    ctx.events.message(
      "warn",
      hard ? `Interrupted again: skipping restore scripts, ${fate} hosts` : `Interrupted: stopping, running restore scripts, ${fate} hosts`,
    );
    this.dispatch();
  }
}
