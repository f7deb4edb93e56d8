// RunModel: the one read model of a run, built from the event stream. Pure:
// no I/O and no clock but the events' own times. The reporter hub applies
// each event here first, then tells the reporters; they read this model
// instead of keeping state of their own, so the terminal, the logs,
// run.json, JUnit and the scenario's results always agree.
//
// Log paths are decided here, so that every reporter names the same file. A
// hook's own file is reserved when it starts:
//
//   <job-folder>/execute.log          a job's hooks: prepare, execute, restore, debug...
//   <job-folder>/execute.NAME.log     multi-host jobs: NAME is the host's name in the job
//   <job-folder>/suite-prepare.log    a suite/backend/project hook reported under a job
//   hooks/<context>/suite-prepare.HOST.log   project, backend and suite hooks
//   logs/<host>.log                   a scenario's hosts: every line their steps printed
//
// A hook that runs again (-repeat, a suite entered twice) gets a new one:
// `execute.2.log`. When the hook ends, it keeps that file if it failed,
// printed more than OWN_LOG_OVER characters or ran OWN_LOG_AFTER_MS or
// longer (its log was streamed there, for `tail -f`). Else its few lines go
// to the run's `output.log`, one section per hook headed
// `==> CONTEXT on HOST: PHASE <==`: on a disk where creating a file costs
// half a millisecond, 1,000 passing jobs no longer cost 2,000 files.

import { posix } from "node:path";
import type { FailedHook, HookFinished, HookStarted, JobStatus, Level, Phase, TroupeEvent } from "../events.js";
import { parseJobName, safeName, UniqueNames } from "../names.js";
import type { HookState, HostState, JobCounts, JobState, ScenarioState, StageState, StepState } from "./state.js";

/** Output events carry no level; job, context, phase and host tell hooks apart. */
function hookKey(e: { job: string; context: string; phase: Phase; host: string }): string {
  return `${e.job}\u0000${e.context}\u0000${e.phase}\u0000${e.host}`;
}

/** A job's waits kept for its reports (a job may wait on a barrier in a loop: memory stays bounded). */
export const MAX_JOB_WAITS = 200;

/** The run's log of hooks that passed quickly and printed little. */
export const RUN_LOG = "output.log";
/** A hook that printed more than this (characters) keeps its own log. The hook-logs reporter streams past 64 KiB. */
export const OWN_LOG_OVER = 32 * 1024;
/** A hook that ran longer than this keeps its own log. The hook-logs reporter streams hooks older than 2 s. */
export const OWN_LOG_AFTER_MS = 1000;

/** The header of a hook's section in the run's `output.log`. */
export function runLogHeader(h: Pick<HookState, "context" | "host" | "as" | "level" | "phase">): string {
  const who = h.as !== undefined && h.as !== h.host ? `${h.host} as ${h.as}` : h.host || "-";
  return `==> ${h.context} on ${who}: ${h.level === "task" ? h.phase : `${h.level} ${h.phase}`} <==`;
}

export function hookFailed(h: { exitCode: number | null; killedBy?: string; done: boolean }): boolean {
  return h.done && (h.exitCode !== 0 || h.killedBy !== undefined);
}

export class RunModel {
  runId = "";
  dir = "";
  seed = 0;
  workers = 0;
  startMs: number | undefined;
  endMs: number | undefined;
  /** `incomplete`: the run ended without its run-finished event (see `close`). */
  status: "running" | "finished" | "interrupted" | "incomplete" = "running";
  readonly counts: JobCounts = { total: 0, started: 0, done: 0, failed: 0, aborted: 0 };
  /** A run of no job (-discard): nothing to sum up. */
  noJobs = false;
  readonly jobs = new Map<string, JobState>();
  /** Project, backend and suite hooks (those not part of one job). */
  readonly runHooks: HookState[] = [];
  readonly hosts = new Map<string, HostState>();
  failedHooks: readonly FailedHook[] = [];
  /** Final lists from run-finished. */
  passed: readonly string[] = [];
  failed: readonly string[] = [];
  aborted: readonly string[] = [];
  interrupted = false;
  /** The scenario, for `troupe play`. */
  scenario: ScenarioState | undefined;

  private readonly open = new Map<string, HookState>();
  private readonly dirNames = new UniqueNames();
  private readonly hookLogNames = new UniqueNames();
  private readonly stepsByKey = new Map<string, StepState>();
  private stepIds = 0;

  constructor() {
    // Names the run directory uses for itself.
    for (const n of ["run.json", "hooks", "junit.xml", "logs", "scenario.json", RUN_LOG]) this.dirNames.take(n);
  }

  /** The hook that printed an `output` or `timeout-warning` event, while it runs. */
  hookOf(e: { job: string; context: string; phase: Phase; host: string }): HookState | undefined {
    return this.open.get(hookKey(e));
  }

  /** The job `name`, if it was seen. */
  job(name: string): JobState | undefined {
    return this.jobs.get(name);
  }

  /** `debian-3 as client-1` for a host of a multi-host job; else the host's name. */
  who(job: string, host: string): string {
    const as = this.jobs.get(job)?.roles.get(host)?.name;
    return as !== undefined && as !== host ? `${host} as ${as}` : host;
  }

  /** Counts every change (each event applied, and closing): equal revisions, equal state. */
  revision = 0;

  /** Apply one event. Returns the state it touched (the hub passes it to reporters). */
  apply(e: TroupeEvent): HookState | JobState | HostState | StepState | StageState | undefined {
    this.revision++;
    switch (e.type) {
      case "run-started":
        this.runId = e.runId;
        this.dir = e.dir;
        this.seed = e.seed;
        this.workers = e.workers;
        this.counts.total = e.jobs;
        this.noJobs = e.jobs === 0;
        this.startMs = e.time;
        return undefined;
      case "host-step": {
        if (!e.host) return undefined;
        const h = this.host(e.host, e.backend, e.system, e.address);
        if (e.step !== "discarding" && e.step !== "keeping") h.activity = { job: "", phase: e.step, since: e.time };
        return h;
      }
      case "host-allocated": {
        const h = this.host(e.host, e.backend, e.system, e.address);
        h.address = e.address;
        h.allocatedMs = e.time;
        if (e.reused) h.reused = true;
        return h;
      }
      case "host-discarded": {
        const h = this.hosts.get(e.host) ?? this.host(e.host, "", "", "");
        h.discardedMs = e.time;
        if (e.reason) h.discardReason = e.reason;
        if (e.kept) h.kept = true;
        h.activity = undefined;
        return h;
      }
      case "worker-broken": {
        const h = this.hosts.get(e.host);
        if (h) h.broken = e.reason;
        return h;
      }
      case "job-started":
        return this.jobStarted(e);
      case "hook-started":
        return this.hookStarted(e);
      case "output": {
        const h = this.open.get(hookKey(e));
        if (h) h.sawOutput = true;
        return h;
      }
      case "timeout-warning": {
        const h = this.open.get(hookKey(e));
        if (h && e.output.trim() !== "") h.sawOutput = true;
        return h;
      }
      case "hook-finished":
        return this.hookFinished(e);
      case "job-finished": {
        const j = this.jobs.get(e.job) ?? this.addJob(e.job, false);
        j.status = e.status;
        j.endMs = e.time;
        j.durationMs = e.durationMs;
        if (j.startMs === undefined) j.startMs = e.time - e.durationMs;
        if (e.reason) j.reason = e.reason;
        if (e.kv) j.kv = e.kv;
        this.counts.done++;
        if (e.status === "failed") this.counts.failed++;
        if (e.status === "aborted") this.counts.aborted++;
        for (const name of j.hosts) {
          const h = this.hosts.get(name);
          if (h?.activity?.job === e.job) h.activity = undefined;
        }
        return j;
      }
      case "run-finished":
        this.status = e.interrupted ? "interrupted" : "finished";
        this.interrupted = e.interrupted;
        this.endMs = e.time;
        if (this.startMs === undefined) this.startMs = e.time - e.durationMs;
        this.failedHooks = e.failedHooks;
        this.passed = e.passed;
        this.failed = e.failed;
        this.aborted = e.aborted;
        this.settle(e.passed, "passed");
        this.settle(e.failed, "failed");
        this.settle(e.aborted, "aborted");
        for (const h of this.hosts.values()) h.activity = undefined;
        return undefined;
      case "message":
        return undefined;
      case "scenario-started":
        this.runId = e.runId;
        this.dir = e.dir;
        this.startMs = e.time;
        this.scenario = {
          scenario: e.scenario,
          ...(e.file ? { file: e.file } : {}),
          hostNames: e.hosts,
          totalStages: e.stages,
          status: "running",
          exitCode: null,
          durationMs: 0,
          stages: [],
          services: [],
          vars: {},
        };
        return undefined;
      case "prometheus-updated":
        if (this.scenario)
          this.scenario.prometheus = { url: e.url, dir: e.dir, ...(e.host ? { host: e.host } : {}), targets: [...e.targets] };
        return undefined;
      case "stage-started": {
        const stage: StageState = {
          index: e.index,
          name: e.stage,
          status: "running",
          hosts: [...e.hosts],
          startMs: e.time,
          durationMs: 0,
          steps: [],
        };
        this.scenario?.stages.push(stage);
        return stage;
      }
      case "stage-finished": {
        const s = this.scenario?.stages.find((x) => x.index === e.index);
        if (s) {
          s.status = e.status;
          s.durationMs = e.durationMs;
        }
        return s;
      }
      case "step-started": {
        const step: StepState = {
          id: ++this.stepIds,
          stage: e.stage,
          stageIndex: e.stageIndex,
          job: e.job,
          ...(e.jobIndex !== undefined ? { jobIndex: e.jobIndex } : {}),
          kind: e.kind,
          host: e.host,
          ...(e.item !== undefined ? { item: e.item } : {}),
          status: "running",
          exitCode: null,
          startMs: e.time,
          durationMs: 0,
        };
        this.stepsByKey.set(stepKey(e), step);
        return step;
      }
      case "step-finished": {
        const key = stepKey(e);
        const step = this.stepsByKey.get(key) ?? (this.apply({ ...e, type: "step-started" }) as StepState);
        this.stepsByKey.delete(key);
        step.status = e.status;
        step.exitCode = e.exitCode;
        if (e.error !== undefined) step.error = e.error;
        step.durationMs = e.durationMs;
        step.endMs = e.time;
        const out = e.output.replace(/\n+$/, "");
        if (e.status !== "passed" && out !== "") step.output = out.split("\n").slice(-100).join("\n");
        this.scenario?.stages.find((x) => x.index === e.stageIndex)?.steps.push(step);
        return step;
      }
      case "service-started":
        this.scenario?.services.push({
          host: e.host,
          service: e.service,
          ...(e.endpoint ? { endpoint: e.endpoint } : {}),
          ...(e.metrics ? { metrics: e.metrics } : {}),
        });
        return undefined;
      case "log-kept": {
        const log = {
          mode: e.mode,
          hostFile: e.hostFile,
          ...(e.file !== undefined ? { file: e.file } : {}),
          lines: e.lines,
          bytes: e.bytes,
          ...(e.error !== undefined ? { error: e.error } : {}),
        };
        if (e.service === undefined) {
          const step = this.stepsByKey.get(stepKey(e));
          if (step) step.log = log;
          return step;
        }
        const s = this.scenario
          ? [...this.scenario.services].reverse().find((x) => x.host === e.host && x.service === e.service)
          : undefined;
        if (s) s.log = log;
        return undefined;
      }
      case "service-stopped": {
        const s = this.scenario
          ? [...this.scenario.services].reverse().find((x) => x.host === e.host && x.service === e.service)
          : undefined;
        if (s) {
          s.stopped = e.expected ? "by troupe" : "by itself";
          s.exitCode = e.exitCode;
          if (e.reason) s.reason = e.reason;
        }
        return undefined;
      }
      case "vars-updated":
      case "terminal":
      case "interrupt":
        return undefined;
      case "sync-wait": {
        const j = this.jobs.get(e.job);
        if (!j) return undefined;
        const waits = (j.waits ??= []);
        if (waits.length >= MAX_JOB_WAITS) j.waitsDropped = (j.waitsDropped ?? 0) + 1;
        else waits.push({ host: e.host, as: e.as, what: e.what, startMs: e.startMs, endMs: e.time, ok: e.ok });
        return j;
      }
      case "scenario-finished":
        if (this.scenario) {
          const s = this.scenario;
          s.status = e.status;
          s.exitCode = e.exitCode;
          s.durationMs = e.durationMs;
          s.vars = { ...e.vars };
          if (e.failure) s.failure = e.failure;
          if (e.error) s.error = e.error;
        }
        this.endMs = e.time;
        this.status = e.status === "interrupted" ? "interrupted" : "finished";
        return undefined;
    }
  }

  /**
   * The run is over without its end event (an error, a crash of the
   * engine): it is `incomplete`, its running jobs aborted.
   */
  close(now: number): void {
    this.revision++;
    this.open.clear();
    if (this.status !== "running") return;
    this.status = "incomplete";
    this.endMs = now;
    for (const j of this.jobs.values()) {
      if (j.status === "running") {
        j.status = "aborted";
        j.reason ??= "the run ended before the job finished";
      }
    }
  }

  // --- hosts, jobs, hooks ---

  private host(name: string, backend: string, system: string, address: string | undefined): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, backend, system, address: address ?? "" };
      this.hosts.set(name, h);
    } else {
      if (backend) h.backend = backend;
      if (system) h.system = system;
      if (address) h.address = address;
    }
    return h;
  }

  private addJob(name: string, withDir: boolean): JobState {
    const j: JobState = {
      name,
      parts: parseJobName(name),
      ...(withDir ? { dir: this.dirNames.take(safeName(name)) } : {}),
      logNames: new UniqueNames(),
      status: "running",
      seq: 0,
      total: 0,
      durationMs: 0,
      hosts: [],
      roles: new Map(),
      hooks: [],
      hasFiles: false,
    };
    this.jobs.set(name, j);
    return j;
  }

  private jobStarted(e: Extract<TroupeEvent, { type: "job-started" }>): JobState {
    const existing = this.jobs.get(e.job);
    let j: JobState;
    if (existing && existing.dir !== undefined) j = existing;
    else if (existing) {
      // Seen before it started (only in lists): give it its folder now.
      existing.dir = this.dirNames.take(safeName(e.job));
      j = existing;
    } else j = this.addJob(e.job, true);
    j.hosts = [...e.hosts];
    j.roles = new Map((e.roles ?? []).map((r) => [r.host, r]));
    j.seq = e.seq;
    j.total = e.total;
    j.startMs = e.time;
    j.status = "running";
    if (e.total > this.counts.total) this.counts.total = e.total;
    this.counts.started++;
    for (const name of e.hosts) {
      const h = this.hosts.get(name) ?? this.host(name, "", "", undefined);
      h.activity = { job: e.job, phase: "", since: e.time };
    }
    return j;
  }

  /** The log a hook writes, relative to the run directory. */
  private logPathFor(job: JobState | undefined, level: Level, phase: Phase, context: string, host: string): string | undefined {
    const hostPart = host ? `.${safeName(host)}` : "";
    if (job) {
      if (job.dir === undefined) return undefined;
      // A multi-host job's logs are named after the hosts' names in the job,
      // which stay the same from run to run: execute.server.log.
      const multi = job.roles.size > 0 || job.hosts.length > 1;
      const as = job.roles.get(host)?.name;
      const stem = (level === "task" ? phase : `${level}-${phase}`) + (multi ? (as ? `.${safeName(as)}` : hostPart) : "");
      return posix.join(job.dir, `${job.logNames.take(stem)}.log`);
    }
    const stem = posix.join("hooks", safeName(context), `${level}-${phase}${hostPart}`);
    return `${this.hookLogNames.take(stem)}.log`;
  }

  private newHook(e: HookStarted | HookFinished, startMs: number): HookState {
    const job = this.jobs.get(e.job);
    const logPath = this.logPathFor(job, e.level, e.phase, e.context, e.host);
    const as = job?.roles.get(e.host)?.name;
    const state: HookState = {
      phase: e.phase,
      level: e.level,
      job: e.job,
      context: e.context,
      host: e.host,
      ...(as !== undefined ? { as } : {}),
      startMs,
      exitCode: null,
      durationMs: 0,
      ...(logPath !== undefined ? { logPath, ownLog: logPath } : {}),
      sawOutput: false,
      done: false,
    };
    (job ? job.hooks : this.runHooks).push(state);
    return state;
  }

  private hookStarted(e: HookStarted): HookState {
    const key = hookKey(e);
    const state = this.newHook(e, e.time);
    this.open.set(key, state);
    if (e.host) {
      const h = this.hosts.get(e.host) ?? this.host(e.host, "", "", undefined);
      h.activity = { job: e.job, phase: e.phase, since: e.time };
    }
    return state;
  }

  private hookFinished(e: HookFinished): HookState {
    const key = hookKey(e);
    const st = this.open.get(key) ?? this.newHook(e, e.time - e.durationMs);
    this.open.delete(key);
    st.endMs = e.time;
    st.exitCode = e.exitCode;
    if (e.killedBy) st.killedBy = e.killedBy;
    if (e.failure) st.failure = e.failure;
    st.durationMs = e.durationMs;
    st.done = true;
    // Only a failure's output is kept: reports show it; the log has every hook's.
    const failed = hookFailed(st);
    if (failed) {
      st.error = e.error ?? failureDetail(st);
      st.output = e.output;
      if (e.truncated) st.truncated = true;
    }
    if (st.ownLog !== undefined) {
      const own = failed || e.truncated === true || (e.printed ?? e.output.length) > OWN_LOG_OVER || e.durationMs > OWN_LOG_AFTER_MS;
      st.logPath = own ? st.ownLog : RUN_LOG;
      const job = this.jobs.get(e.job);
      if (own && job && job.hooks.includes(st)) job.hasFiles = true;
    }
    const h = this.hosts.get(e.host);
    if (h?.activity && h.activity.phase === e.phase) h.activity = { job: this.jobs.has(e.job) ? e.job : "", phase: "", since: e.time };
    return st;
  }

  /** Jobs named in run-finished's lists: fill in those never seen or never finished. */
  private settle(names: readonly string[], status: JobStatus): void {
    for (const name of names) {
      const j = this.jobs.get(name) ?? this.addJob(name, false);
      if (j.status === "running") j.status = status;
    }
  }
}

function stepKey(e: { stageIndex: number; job: string; host: string; item?: string }): string {
  return `${e.stageIndex}\u0000${e.job}\u0000${e.host}\u0000${e.item ?? ""}`;
}

/** `exit status 1`, `kill-timeout reached`, `killed (interrupt)`. */
export function failureDetail(h: Pick<HookState, "killedBy" | "exitCode">): string {
  return h.killedBy === "timeout" ? "kill-timeout reached" : h.killedBy ? `killed (${h.killedBy})` : `exit status ${h.exitCode}`;
}
