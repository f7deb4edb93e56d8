// runJobs: Spread's runner (runner.go) on the event stream. Workers are hosts;
// each keeps Spread's per-worker state (inside project, backend, suite) and
// runs hooks in Spread's order. Jobs are handed out by the scheduler whenever
// a worker is idle; a multi-host job takes all its hosts at once.

import { basename, posix } from "node:path";
import type { BackendDriver, Host } from "../backends/backend.js";
import type { Job } from "../model/job.js";
import type { Backend, System } from "../model/project.js";
import type { JobStatus, Level, Phase } from "../report/events.js";
import type { HostAssignment, JobSession } from "./job-session.js";
import { runHook } from "./hook-runner.js";
import { errorText } from "../util/text.js";
import { assignmentVars, jobVars, mergeVars } from "./host-vars.js";
import { Limiter, Mutex } from "./mutex.js";
import type { RunModes, RunOptions, RunOutcome } from "./options.js";
import { buildShellScript, type VarList } from "./prelude.js";
import { needsOf, scriptsForRole, slotsFor, type Slot, type TaskScripts } from "./roles.js";
import { pickJob, suiteKey, workerCounts, type PendingJob } from "./scheduler.js";
import { Tally } from "./tally.js";
import { Worker } from "./worker.js";

const NO_MODES: RunModes = { shell: false, shellBefore: false, shellAfter: false, debug: false, abend: false, restore: false };

interface Pending extends PendingJob {
  readonly slots: readonly Slot[];
}

/** One host of a running job. */
interface Seat {
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

interface HookResult {
  readonly ok: boolean;
  /** Killed by an interrupt: not a failure of the script. */
  readonly interrupted: boolean;
  readonly error?: string;
  /** For a failure: its rank in the run (1 = first), so that a gang's first failure is known. */
  readonly failed?: number;
}

export async function runJobs(options: RunOptions): Promise<RunOutcome> {
  return new Run(options).run();
}

class Run {
  private readonly modes: RunModes;
  private readonly events;
  private readonly tally;
  private readonly pending: (Pending | null)[] = [];
  /** How many pending jobs there are at each priority. */
  private readonly priorities = new Map<number, number>();
  /** Taken entries (null) in `pending` since it was last compacted. */
  private taken = 0;
  /** Alive hosts per `backend:system` when impossible jobs were last looked for. */
  private aliveSignature: string | undefined;
  private readonly workers: Worker[] = [];
  /** Keys of workers whose host could not be allocated. */
  private readonly unallocated: string[] = [];
  private readonly suiteWorkers = new Map<string, number>();
  private readonly drivers = new Map<string, BackendDriver>();
  private readonly terminal = new Mutex();
  private readonly allocations: Limiter;
  /** Kills prepare/execute/debug scripts: any interrupt. */
  private readonly scriptAbort = new AbortController();
  /** Kills restore scripts too: the second interrupt. */
  private readonly restoreAbort = new AbortController();
  private stopping = false;
  private hard = false;
  private seq = 0;
  /** Scripts failed so far (HookResult.failed). */
  private failures = 0;
  private dispatching = false;
  private redispatch = false;
  private readonly started = Date.now();
  private resolveDone!: () => void;
  private readonly done = new Promise<void>((r) => (this.resolveDone = r));

  constructor(private readonly options: RunOptions) {
    this.modes = { ...NO_MODES, ...options.modes };
    this.events = options.events;
    this.tally = new Tally(options.events);
    this.allocations = new Limiter(Math.max(1, options.allocateConcurrency ?? 16));
  }

  async run(): Promise<RunOutcome> {
    const { options, events } = this;
    const unplannable: [Job, string][] = [];
    for (const job of options.jobs) {
      let slots: Slot[];
      try {
        slots = slotsFor(job);
      } catch (err) {
        unplannable.push([job, errorText(err)]);
        continue;
      }
      this.pending.push({
        job,
        slots,
        key: `${job.backend.name}:${job.system.name}`,
        needs: needsOf(slots),
        multi: slots.length > 1,
      });
      this.priorities.set(job.priority, (this.priorities.get(job.priority) ?? 0) + 1);
    }
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
      this.tally.finish(job, "aborted", undefined, why);
    }

    const onSoft = (): void => this.interrupt(false);
    const onHard = (): void => this.interrupt(true);
    options.signal?.addEventListener("abort", onSoft, { once: true });
    options.hardSignal?.addEventListener("abort", onHard, { once: true });
    try {
      if (options.hardSignal?.aborted) this.interrupt(true);
      else if (options.signal?.aborted) this.interrupt(false);
      for (const w of this.workers) {
        this.startWorker(w).catch((err) => this.internalError(`starting ${w.label}`, err, [w]));
      }
      this.dispatch();
      await this.done;
    } finally {
      options.signal?.removeEventListener("abort", onSoft);
      options.hardSignal?.removeEventListener("abort", onHard);
    }

    for (const p of this.pending) {
      if (p) this.tally.finish(p.job, "aborted", undefined, this.stopping ? "interrupted" : "not run: no host could take it");
    }
    const outcome: RunOutcome = {
      passed: this.tally.names("passed"),
      failed: this.tally.names("failed"),
      aborted: this.tally.names("aborted"),
      failedHooks: [...this.tally.failedHooks],
      interrupted: this.stopping,
      unallocated: [...this.unallocated],
      success: false,
      durationMs: Date.now() - this.started,
    };
    const success = !outcome.interrupted && outcome.failed.length === 0 && outcome.aborted.length === 0 && outcome.failedHooks.length === 0;
    events.emit({
      type: "run-finished",
      passed: outcome.passed,
      failed: outcome.failed,
      aborted: outcome.aborted,
      failedHooks: outcome.failedHooks,
      durationMs: outcome.durationMs,
      interrupted: outcome.interrupted,
    });
    return { ...outcome, success };
  }

  // ---- workers -------------------------------------------------------------

  private driverOf(backend: Backend): BackendDriver {
    let d = this.drivers.get(backend.name);
    if (!d) {
      d = this.options.driverFor(backend);
      this.drivers.set(backend.name, d);
    }
    return d;
  }

  private createWorkers(): void {
    const systems = new Map<string, { backend: Backend; system: System }>();
    for (const p of this.pending) {
      for (const s of p!.slots) if (!systems.has(s.key)) systems.set(s.key, { backend: s.backend, system: s.system });
    }
    // Ask for every driver first: an unsupported backend fails before any host comes up.
    for (const { backend } of systems.values()) this.driverOf(backend);
    const counts = workerCounts(this.pending as Pending[], (key) => {
      const s = systems.get(key);
      if (!s) return 1;
      // A backend may know better (an ssh system: one worker per listed host).
      return this.driverOf(s.backend).workersFor?.(s.system) ?? s.system.workers;
    });
    for (const [key, { backend, system }] of systems) {
      const c = counts.get(key);
      if (!c) continue;
      if (c.raised) {
        this.events.message(
          "warn",
          `${key} has workers: ${system.workers}, but a multi-host job needs ${c.count} of its hosts at once; using ${c.count}`,
        );
      }
      for (let i = 1; i <= c.count; i++) {
        this.workers.push(new Worker(this.workers.length + 1, backend, system, i, this.driverOf(backend)));
      }
    }
  }

  private async startWorker(w: Worker): Promise<void> {
    const { events } = this;
    await this.allocations.run(async () => {
      if (this.stopping) return;
      events.emit({ type: "host-step", step: "allocating", backend: w.backend.name, system: w.system.name });
      try {
        w.host = await w.driver.allocate(w.system, w.index);
      } catch (err) {
        events.message("error", `Cannot allocate ${w.key}: ${errorText(err)}`);
        this.unallocated.push(w.key);
        return;
      }
      const host = w.host;
      const where = { backend: host.backend, system: host.system, host: host.name, address: host.address };
      events.emit({ type: "host-allocated", ...where, ...(host.reused ? { reused: true } : {}) });
      if (this.stopping) return;
      if (host.reused?.project) {
        // A host kept by an earlier run (-reuse) still has the project.
        events.emit({ type: "host-step", step: "reusing", ...where });
        return;
      }
      events.emit({ type: "host-step", step: "sending", ...where });
      try {
        await this.options.pushProject(host);
      } catch (err) {
        this.markBroken(w, `cannot send project content: ${errorText(err)}`);
      }
    });
    if (!w.host) {
      w.state = "done";
    } else if (this.stopping || w.broken) {
      await this.finishWorker(w);
      return;
    } else {
      w.state = "idle";
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
      this.events.message("error", `Internal error ${what}: ${errorText(err)}`);
    } catch {
      /* a listener that throws on messages too: nothing more to say */
    }
    for (const w of workers) {
      if (w.state === "done") continue;
      w.state = "done";
      const host = w.host;
      if (host) w.driver.discard(host).catch(() => undefined);
    }
    try {
      this.dispatch();
    } catch {
      if (this.workers.every((x) => x.state === "done")) this.resolveDone();
    }
  }

  private markBroken(w: Worker, reason: string): void {
    if (w.broken) return;
    w.broken = reason;
    this.events.emit({ type: "worker-broken", host: w.label, reason });
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
    if (!this.stopping) {
      this.abortImpossible();
      for (const w of this.workers) {
        if (w.state !== "idle") continue;
        const idle = this.workers.filter((x) => x.state === "idle");
        const pick = pickJob(w, this.pending, idle, this.suiteWorkers, this.maxPriority());
        if (!pick) continue;
        const p = this.takePending(pick.index);
        for (const m of pick.members) {
          m.state = "busy";
          const k = suiteKey(p.job);
          this.suiteWorkers.set(k, (this.suiteWorkers.get(k) ?? 0) + 1);
        }
        this.runJob(p, pick.members).catch((err) => this.internalError(`running ${p.job.name}`, err, pick.members));
      }
    }
    for (const w of this.workers) {
      if (w.state === "idle" && (this.stopping || !this.couldUse(w))) {
        this.finishWorker(w).catch((err) => this.internalError(`leaving ${w.label}`, err, [w]));
      }
    }
    if (this.workers.every((w) => w.state === "done")) this.resolveDone();
  }

  private couldUse(w: Worker): boolean {
    return this.pending.some((p) => p !== null && p.needs.has(w.key));
  }

  /**
   * Abort pending jobs that need more hosts of a system than are left alive.
   * Pending jobs are only ever taken away, so the answer can change only when
   * a host dies: the scan runs again only then.
   */
  private abortImpossible(): void {
    const alive = new Map<string, number>();
    for (const w of this.workers) if (w.alive) alive.set(w.key, (alive.get(w.key) ?? 0) + 1);
    const signature = [...alive].map(([k, n]) => `${k}=${n}`).join(" ");
    if (signature === this.aliveSignature) return;
    this.aliveSignature = signature;
    this.pending.forEach((p, i) => {
      if (!p) return;
      for (const [key, n] of p.needs) {
        const left = alive.get(key) ?? 0;
        if (left < n) {
          this.takePending(i, false);
          const why = n === 1 ? `no host of ${key} left to run it` : `needs ${n} hosts of ${key}, only ${left} left`;
          this.tally.finish(p.job, "aborted", undefined, why);
          return;
        }
      }
    });
  }

  /** The highest priority of a pending job. */
  private maxPriority(): number | undefined {
    let max: number | undefined;
    for (const [priority, n] of this.priorities) if (n > 0 && (max === undefined || priority > max)) max = priority;
    return max;
  }

  /** Take a pending job out of the list; `compact: false` while iterating over it. */
  private takePending(i: number, compact = true): Pending {
    const p = this.pending[i]!;
    this.pending[i] = null;
    this.priorities.set(p.job.priority, (this.priorities.get(p.job.priority) ?? 1) - 1);
    this.taken += 1;
    if (compact) this.compactPending();
    return p;
  }

  /**
   * Drop taken entries once they are most of the list, so that picking stays
   * linear in what is left. Indexes change: callers must not hold one across.
   */
  private compactPending(): void {
    if (this.taken < 64 || this.taken * 2 < this.pending.length) return;
    const left = this.pending.filter((p) => p !== null);
    this.pending.length = 0;
    this.pending.push(...left);
    this.taken = 0;
  }

  private interrupt(hard: boolean): void {
    if (hard) {
      if (this.hard) return;
      this.hard = true;
      this.restoreAbort.abort();
    } else if (this.stopping) {
      return;
    }
    this.stopping = true;
    this.scriptAbort.abort();
    // -reuse: hosts are kept rather than discarded.
    const fate = this.workers.some((w) => w.host && w.driver.keeps?.(w.host)) ? "keeping" : "discarding";
    this.events.message(
      "warn",
      hard ? `Interrupted again: skipping restore scripts, ${fate} hosts` : `Interrupted: stopping, running restore scripts, ${fate} hosts`,
    );
    this.dispatch();
  }

  /** Leave the worker: suite, backend and project restore (unless -abend or a second interrupt), then discard. */
  private async finishWorker(w: Worker): Promise<void> {
    if (w.state === "finishing" || w.state === "done") return;
    w.state = "finishing";
    try {
      const last = w.last;
      if (w.host && last && !w.abend) {
        if (w.insideSuite && !this.hard) {
          const suite = w.insideSuite;
          const r = await this.hook(w, last, "suite", "restore", suite.restore ?? "", suite.debug ?? "");
          if (!r.ok && !r.interrupted) this.tally.hookFailed(`restore suite (${this.contextOf(w, last, "suite")})`);
          w.insideSuite = undefined;
        }
        if (w.insideBackend && !this.hard) {
          const r = await this.hook(w, last, "backend", "restore", w.backend.restore ?? "", w.backend.debug ?? "");
          if (!r.ok && !r.interrupted) this.tally.hookFailed(`restore backend (${this.contextOf(w, last, "backend")})`);
          w.insideBackend = false;
        }
        if (w.insideProject && !this.hard) {
          const r = await this.hook(w, last, "project", "restore", last.project.restore ?? "", last.project.debug ?? "");
          if (!r.ok && !r.interrupted) this.tally.hookFailed(`restore project (${this.contextOf(w, last, "project")})`);
          w.insideProject = false;
        }
      }
      if (w.host) await this.discard(w, w.host);
    } catch (err) {
      this.events.message("error", `Error leaving ${w.label}: ${errorText(err)}`);
    } finally {
      w.state = "done";
      this.dispatch();
    }
  }

  private async discard(w: Worker, host: Host): Promise<void> {
    const { events } = this;
    // -reuse: the driver keeps the host for later runs; discard() only lets go of it.
    const kept = w.driver.keeps?.(host) ?? false;
    events.emit({
      type: "host-step",
      step: kept ? "keeping" : "discarding",
      backend: host.backend,
      system: host.system,
      host: host.name,
      address: host.address,
    });
    try {
      await w.driver.discard(host);
    } catch (err) {
      events.message("error", `Error ${kept ? "releasing" : "discarding"} ${host.name}: ${errorText(err)}`);
    }
    const reason = w.broken ? `broken: ${w.broken}` : w.abend ? "abend" : this.stopping ? "interrupted" : undefined;
    events.emit({ type: "host-discarded", host: host.name, ...(reason ? { reason } : {}), ...(kept ? { kept: true } : {}) });
  }

  // ---- hooks ---------------------------------------------------------------

  /** Spread's job.StringFor(context), with the host's own backend and system. */
  private contextOf(w: Worker, job: Job, level: Level): string {
    const bs = `${w.backend.name}:${w.system.name}`;
    if (level === "project" || level === "backend") return bs;
    if (level === "suite") return `${bs}:${job.suite.name}`;
    return job.name;
  }

  private dirOf(host: Host, job: Job, level: Level): string {
    return level === "project" || level === "backend" ? host.projectPath : posix.join(host.projectPath, job.task.name);
  }

  /**
   * Spread's Runner.run: run a script (blank: nothing to do), and on failure
   * its debug script, then the debugging shell when asked; with -abend, mark
   * the worker to stop. Task-level hooks carry the seat's variables.
   */
  private async hook(w: Worker, job: Job, level: Level, phase: Phase, script: string, debug: string, seat?: Seat): Promise<HookResult> {
    const host = w.host!;
    if (script.trim() === "") return { ok: true, interrupted: false };
    const context = this.contextOf(w, job, level);
    const dir = this.dirOf(host, job, level);
    const vars = mergeVars(jobVars(job, host), seat?.vars);
    const shellHere = (what: string): Promise<void> => this.shell(host, job, dir, vars, what);

    if (phase === "execute" && (this.modes.shell || this.modes.shellBefore) && !this.stopping) {
      await shellHere(this.modes.shell ? `instead of executing ${job.name}` : `before executing ${job.name}`);
      if (this.modes.shell) return { ok: true, interrupted: false };
    }

    const common = {
      events: this.events,
      host,
      backendType: w.driver.type,
      ...(w.driver.reboot ? { reboot: (h: Host) => w.driver.reboot!(h) } : {}),
      job: level === "task" ? job.name : context,
      context,
      level,
      dir,
      vars,
      environment: job.environment,
      timeouts: job.timeouts[level],
    };
    const signal = phase === "restore" ? this.restoreAbort.signal : this.scriptAbort.signal;
    const r = await runHook({ ...common, phase, script, signal });
    if (r.ok) {
      if (phase === "execute" && this.modes.shellAfter && !this.stopping) await shellHere(`after executing ${job.name}`);
      return { ok: true, interrupted: false };
    }
    const interrupted = r.failure?.kind === "interrupt";
    const transportError = r.failure?.kind === "transport";
    const error = r.failure?.message ?? "failed";
    const failed = ++this.failures;
    if (seat?.session) {
      try {
        seat.session.hostFailed(seat.assignment, `${phase} ${level} failed on ${seat.assignment.name}: ${error}`);
      } catch (err) {
        this.events.message("error", `sync session: ${errorText(err)}`);
      }
    }
    if (interrupted) return { ok: false, interrupted, error, failed };
    if (r.marker?.kind === "FATAL") this.markBroken(w, `FATAL in ${phase} ${level} (${context}): ${error}`);
    if (transportError) this.markBroken(w, error);
    if (debug.trim() !== "" && !this.stopping && !transportError) {
      await runHook({ ...common, phase: "debug", script: debug, signal: this.scriptAbort.signal });
    }
    if ((this.modes.debug || this.modes.shellAfter) && !this.stopping && !transportError) {
      await shellHere(`to debug ${phase} ${context}`);
    }
    if (this.modes.abend) w.abend = true;
    return { ok: false, interrupted, error, failed };
  }

  private async shell(host: Host, job: Job, dir: string, vars: VarList, what: string): Promise<void> {
    await this.terminal.run(async () => {
      this.events.message("info", `Starting shell ${what} on ${host.name}...`);
      try {
        await host.transport.exec({ script: buildShellScript({ dir, vars, environment: job.environment }), interactive: true });
      } catch (err) {
        this.events.message("error", `Error running debug shell on ${host.name}: ${errorText(err)}`);
      }
      this.events.message("info", "Continuing...");
    });
  }

  // ---- jobs ----------------------------------------------------------------

  /**
   * Bring one worker into the job's suite, as Spread's worker loop does before
   * a task: restore the suite it leaves, prepare project and backend the first
   * time, prepare the suite it enters. Returns why the job cannot run here.
   */
  private async enter(w: Worker, job: Job): Promise<string | undefined> {
    const host = w.label;
    if (w.badSuites.has(job.suite.name)) return `suite ${job.suite.name} failed to prepare on ${host}`;
    if (w.insideSuite && w.insideSuite.name !== job.suite.name && w.last) {
      const last = w.last;
      const suite = w.insideSuite;
      const r = await this.hook(w, last, "suite", "restore", suite.restore ?? "", suite.debug ?? "");
      if (!r.ok) {
        if (r.interrupted) return "interrupted";
        this.tally.hookFailed(`restore suite (${this.contextOf(w, last, "suite")})`);
        this.markBroken(w, `restore of suite ${suite.name} failed`);
        return `restore of suite ${suite.name} failed on ${host}`;
      }
      w.insideSuite = undefined;
    }
    w.last = job;
    const restoreOnly = this.modes.restore;
    if (!w.insideProject) {
      w.insideProject = true;
      const p = job.project;
      const r = restoreOnly ? undefined : await this.hook(w, job, "project", "prepare", p.prepare ?? "", p.debug ?? "");
      if (r && !r.ok) {
        if (r.interrupted) return "interrupted";
        this.tally.hookFailed(`prepare project (${this.contextOf(w, job, "project")})`);
        this.markBroken(w, "project prepare failed");
        return `project prepare failed on ${host}`;
      }
      w.insideBackend = true;
      const b = w.backend;
      const rb = restoreOnly ? undefined : await this.hook(w, job, "backend", "prepare", b.prepare ?? "", b.debug ?? "");
      if (rb && !rb.ok) {
        if (rb.interrupted) return "interrupted";
        this.tally.hookFailed(`prepare backend (${this.contextOf(w, job, "backend")})`);
        this.markBroken(w, `backend ${b.name} prepare failed`);
        return `backend prepare failed on ${host}`;
      }
    }
    if (w.insideSuite?.name !== job.suite.name) {
      w.insideSuite = job.suite;
      const s = job.suite;
      const r = restoreOnly ? undefined : await this.hook(w, job, "suite", "prepare", s.prepare ?? "", s.debug ?? "");
      if (r && !r.ok) {
        if (r.interrupted) return "interrupted";
        this.tally.hookFailed(`prepare suite (${this.contextOf(w, job, "suite")})`);
        w.badSuites.add(s.name);
        return `suite prepare failed on ${host}`;
      }
    }
    return undefined;
  }

  private async runJob(p: Pending, members: Worker[]): Promise<void> {
    const { job } = p;
    let startedAt: number | undefined;
    let session: JobSession | undefined;
    const jobAbort = new AbortController();
    const onStop = (): void => jobAbort.abort();
    this.scriptAbort.signal.addEventListener("abort", onStop, { once: true });
    try {
      const entered = await Promise.all(members.map((w) => this.enter(w, job)));
      const why = entered.find((x) => x !== undefined);
      if (why !== undefined) {
        this.tally.finish(job, "aborted", undefined, why);
        return;
      }
      if (this.stopping) {
        this.tally.finish(job, "aborted", undefined, "interrupted");
        return;
      }

      const seats = this.seat(p, members);
      startedAt = Date.now();
      this.events.emit({
        type: "job-started",
        job: job.name,
        hosts: seats.map((s) => s.host.name),
        ...(job.hosts?.length
          ? { roles: seats.map((s) => ({ host: s.host.name, name: s.assignment.name, role: s.assignment.role })) }
          : {}),
        seq: ++this.seq,
        total: this.options.jobs.length,
      });

      // Only multi-host jobs (tasks with `hosts:`) and jobs that reserve
      // ports get a sync session: a single host has no one to wait for, and
      // a relay per job would cost.
      if (this.options.jobSession && (job.hosts?.length || job.ports?.length)) {
        try {
          session = await this.options.jobSession(
            job,
            seats.map((s) => s.assignment),
            jobAbort.signal,
          );
        } catch (err) {
          this.tally.finish(job, "aborted", startedAt, `cannot open the job's sync session: ${errorText(err)}`);
          return;
        }
        for (const s of seats) {
          s.session = session;
          s.vars = mergeVars(s.vars, session.env(s.assignment));
        }
      }

      const [status, reason] = await this.body(job, seats, members);
      await closeSession();
      this.tally.finish(job, status, startedAt, reason);
    } catch (err) {
      this.events.message("error", `Internal error running ${job.name}: ${errorText(err)}`);
      this.tally.finish(job, "aborted", startedAt, `internal error: ${errorText(err)}`);
    } finally {
      await closeSession();
      this.scriptAbort.signal.removeEventListener("abort", onStop);
      jobAbort.abort();
      for (const w of members) {
        const k = suiteKey(job);
        this.suiteWorkers.set(k, (this.suiteWorkers.get(k) ?? 1) - 1);
        if (w.broken || w.abend || this.stopping) this.finishWorker(w).catch((err) => this.internalError(`leaving ${w.label}`, err, [w]));
        else w.state = "idle";
      }
      this.dispatch();
    }

    async function closeSession(): Promise<void> {
      const s = session;
      session = undefined;
      if (!s) return;
      try {
        await s.close();
      } catch {
        /* the job is over either way */
      }
    }
  }

  /** Put each worker of the gang in one of the job's slots. */
  private seat(p: Pending, members: Worker[]): Seat[] {
    const free = [...members];
    const multi = p.slots.length > 1;
    const placed = p.slots.map((slot) => {
      const i = free.findIndex((w) => w.key === slot.key);
      const w = free.splice(i, 1)[0]!;
      const host = w.host!;
      const assignment: HostAssignment = { host, role: slot.role, index: slot.index, name: slot.name || host.name };
      return { w, slot, assignment };
    });
    const all = placed.map((x) => x.assignment);
    return placed.map(({ w, slot, assignment }) => {
      const scripts = scriptsForRole(p.job, slot.role);
      return {
        worker: w,
        host: w.host!,
        assignment,
        scripts,
        debug: scripts.debug,
        vars: assignmentVars(assignment, all),
        multi,
      };
    });
  }

  /** Spread's repeat loop: prepare, execute, artifacts, restore, on every host of the job. */
  private async body(job: Job, seats: Seat[], members: Worker[]): Promise<[JobStatus, string | undefined]> {
    const restoreOnly = this.modes.restore;
    let status: JobStatus = restoreOnly ? "skipped" : "passed";
    let reason: string | undefined = restoreOnly ? "restore only" : undefined;
    const where = (s: Seat): string => (s.multi ? ` on ${s.assignment.name}` : "");
    // Each host's result; failures first to last: when several hosts fail,
    // the first to fail is the cause (the others' waits were poisoned by it).
    const all = async (f: (s: Seat) => Promise<HookResult>): Promise<[HookResult, Seat][]> => {
      const results = await Promise.all(seats.map(async (s) => [await f(s), s] as [HookResult, Seat]));
      return results.sort(([a], [b]) => (a.failed ?? 0) - (b.failed ?? 0));
    };

    for (let repeat = this.options.repeat ?? 0; repeat >= 0; repeat--) {
      if (restoreOnly) {
        repeat = -1;
      } else if (this.stopping) {
        if (status === "passed") [status, reason] = ["aborted", "interrupted"];
        break;
      } else {
        const prep = await all((s) => this.hook(s.worker, job, "task", "prepare", s.scripts.prepare, s.debug, s));
        if (prep.some(([r]) => !r.ok)) {
          const failed = prep.filter(([r]) => !r.ok);
          if (failed.every(([r]) => r.interrupted)) [status, reason] = ["aborted", "interrupted"];
          else {
            for (const [r, s] of failed) if (!r.interrupted) this.tally.hookFailed(`prepare task (${job.name})${where(s)}`);
            const [r, s] = failed.find(([x]) => !x.interrupted)!;
            [status, reason] = ["aborted", `prepare failed${where(s)}: ${r.error ?? ""}`];
          }
          for (const s of seats) s.debug = "";
          repeat = -1;
        } else if (this.stopping) {
          [status, reason] = ["aborted", "interrupted"];
          repeat = -1;
        } else {
          const exec = await all((s) => this.hook(s.worker, job, "task", "execute", s.scripts.execute, s.debug, s));
          if (exec.some(([r]) => !r.ok)) {
            const failed = exec.filter(([r]) => !r.ok);
            const real = failed.find(([r]) => !r.interrupted);
            if (real) [status, reason] = ["failed", `execute failed${where(real[1])}: ${real[0].error ?? ""}`];
            else [status, reason] = ["aborted", "interrupted"];
            for (const s of seats) s.debug = "";
            repeat = -1;
          }
        }
      }

      const abend = members.some((w) => w.abend);
      if (!abend && !restoreOnly && !this.hard && repeat <= 0 && this.options.fetchArtifacts) {
        for (const s of seats) {
          try {
            await this.options.fetchArtifacts(job, s.host);
          } catch (err) {
            this.events.message("error", `Cannot fetch artifacts of ${job.name}${where(s)}: ${errorText(err)}`);
            this.tally.hookFailed(`artifacts (${job.name})${where(s)}`);
          }
        }
      }
      if (abend) {
        // -abend: leave everything as it is for inspection, on every host of the job.
        for (const w of members) w.abend = true;
        break;
      }
      if (this.hard) break;
      const restored = await all((s) => this.hook(s.worker, job, "task", "restore", s.scripts.restore, s.debug, s));
      restored.forEach(([r, s]) => {
        if (r.ok || r.interrupted) return;
        this.tally.hookFailed(`restore task (${job.name})${where(s)}`);
        this.markBroken(s.worker, `restore of ${job.name} failed`);
        repeat = -1;
      });
      if (restored.some(([r]) => r.interrupted)) break;
    }
    return [status, reason];
  }
}
