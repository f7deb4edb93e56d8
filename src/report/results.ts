// The results directory of a run, `.troupe/runs/<run-id>/`:
//
//   run.json                        the run (run-json.ts), rewritten atomically
//                                   (temporary file + rename) as jobs finish
//   <job-folder>/prepare.log        one log per hook of a job: prepare,
//   <job-folder>/execute.log        execute, restore, debug (artifacts, ...)
//   <job-folder>/restore.log
//   <job-folder>/execute.NAME.log   multi-host jobs: one log per host per
//                                   hook, NAME its name in the job
//                                   (`execute.server.log`, `prepare.client-2.log`)
//   <job-folder>/suite-prepare.log  a suite/backend/project hook reported
//                                   under a job's name gets its level prefixed
//   hooks/<context>/suite-prepare.HOST.log
//                                   project, backend and suite hooks
//                                   (context `backend:system[:suite/]`)
//
// Job folders are named by `safeName` (names.ts): `local:debian-12:tests/main/hello:v1`
// becomes `local_debian-12_tests-main-hello_v1`. A hook that runs again
// (Spread's -repeat, a suite entered twice by one worker) gets a new log:
// `execute.2.log`. Logs hold the script's lines as it printed them, streamed
// to disk as they arrive; a killed script's log ends with `<kill-timeout reached>`.

import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, posix } from "node:path";
import type { HookFinished, HookStarted, JobHostRole, JobStatus, Level, Phase, TroupeEvent } from "./events.js";
import { writeFileAtomic } from "./atomic.js";
import { failureOutput } from "./format.js";
import { HookLog } from "./hook-log.js";
import { parseJobName, safeName, UniqueNames, type JobNameParts } from "./names.js";
import { RUN_JSON_FORMAT, type HookJson, type HostJson, type JobHostJson, type JobJson, type RunJson } from "./run-json.js";

export type { RunJson, JobJson, HookJson, HostJson, JobHostJson } from "./run-json.js";

export interface ResultsOptions {
  /** The run directory; created if missing. */
  readonly runDir: string;
  /** Clock for a run that ends without a run-finished event. */
  readonly now?: () => number;
  /** Minimum time between two rewrites of run.json while the run goes on (default 500 ms). */
  readonly rewriteMs?: number;
  /** Called for each file that cannot be written; the run goes on. */
  readonly onError?: (err: Error) => void;
}

/** Keep at most this much of a failed script's output in run.json. */
const MAX_FAILURE_OUTPUT = 64 * 1024;

interface HookState {
  readonly phase: Phase;
  readonly level: Level;
  readonly context: string;
  readonly host: string;
  /** The host's name in its multi-host job. */
  readonly as?: string;
  readonly startMs: number;
  endMs?: number;
  exitCode: number | null;
  killedBy?: "timeout" | "interrupt" | "signal";
  error?: string;
  durationMs: number;
  logPath?: string;
  output?: string;
  done: boolean;
}

interface JobState {
  readonly name: string;
  readonly parts: JobNameParts;
  readonly dir?: string;
  readonly logNames: UniqueNames;
  status: JobStatus | "running";
  seq: number;
  startMs?: number;
  endMs?: number;
  durationMs: number;
  hosts: readonly string[];
  /** Multi-host job: each host's name and role in the job, by host. */
  roles: ReadonlyMap<string, JobHostRole>;
  readonly hooks: HookState[];
  reason?: string;
}

interface OpenHook {
  readonly state: HookState;
  readonly log?: HookLog;
}

/** A hook still running after this long streams its log to disk. */
const STREAM_AFTER_MS = 1000;

interface HostState {
  name: string;
  backend: string;
  system: string;
  address: string;
  allocatedMs: number;
  discardedMs?: number;
  discardReason?: string;
  broken?: string;
  reused?: boolean;
  kept?: boolean;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Output events carry no level; job, context, phase and host tell hooks apart. */
function hookKey(e: { job: string; context: string; phase: Phase; host: string }): string {
  return [e.job, e.context, e.phase, e.host].join("\u0000");
}

function hookFailed(h: { exitCode: number | null; killedBy?: string; done: boolean }): boolean {
  return h.done && (h.exitCode !== 0 || h.killedBy !== undefined);
}

/** Keep the end of a long text, cut at a line start. */
function lastBytes(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(text.length - max);
  const nl = cut.indexOf("\n");
  return `(... output cut ...)\n${nl >= 0 ? cut.slice(nl + 1) : cut}`;
}

export class ResultsWriter {
  readonly runDir: string;
  /** Errors met while writing files; the first ones are also passed to `onError`. */
  readonly errors: Error[] = [];

  private readonly now: () => number;
  private readonly rewriteMs: number;
  private readonly onError: ((err: Error) => void) | undefined;

  private runId = "";
  private seed = 0;
  private workers = 0;
  private totalJobs = 0;
  private startMs: number | undefined;
  private endMs: number | undefined;
  private status: RunJson["status"] = "running";
  private failedHooks: readonly string[] = [];
  private readonly jobs = new Map<string, JobState>();
  private readonly runHooks: HookState[] = [];
  private readonly hosts = new Map<string, HostState>();
  private readonly open = new Map<string, OpenHook>();
  private readonly dirNames = new UniqueNames();
  private readonly hookLogNames = new UniqueNames();
  private readonly closing = new Set<Promise<void>>();
  private dirReady = false;

  // run.json rewriting: one write at a time, coalesced.
  private dirty = false;
  private writing: Promise<void> | undefined;
  private lastWrite = Number.NEGATIVE_INFINITY;
  private finishing = false;
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private finished: Promise<RunJson> | undefined;
  private streamTimer: NodeJS.Timeout | undefined;

  constructor(opts: ResultsOptions) {
    this.runDir = opts.runDir;
    this.now = opts.now ?? Date.now;
    this.rewriteMs = opts.rewriteMs ?? 500;
    this.onError = opts.onError;
    // Names the run directory already uses for itself.
    this.dirNames.take("run.json");
    this.dirNames.take("hooks");
    this.dirNames.take("junit.xml");
  }

  /** The path of run.json. */
  get runJsonPath(): string {
    return join(this.runDir, "run.json");
  }

  handle(e: TroupeEvent): void {
    switch (e.type) {
      case "run-started":
        this.runId = e.runId;
        this.seed = e.seed;
        this.workers = e.workers;
        this.totalJobs = e.jobs;
        this.startMs = e.time;
        this.scheduleWrite();
        break;
      case "host-step":
        break;
      case "host-allocated":
        this.hosts.set(e.host, {
          name: e.host,
          backend: e.backend,
          system: e.system,
          address: e.address,
          allocatedMs: e.time,
          ...(e.reused ? { reused: true } : {}),
        });
        break;
      case "host-discarded": {
        const h = this.hosts.get(e.host);
        if (h) {
          h.discardedMs = e.time;
          if (e.reason) h.discardReason = e.reason;
          if (e.kept) h.kept = true;
        }
        break;
      }
      case "worker-broken": {
        const h = this.hosts.get(e.host);
        if (h) h.broken = e.reason;
        break;
      }
      case "job-started":
        this.jobStarted(e.job, e.hosts, e.seq, e.time, e.roles);
        break;
      case "hook-started":
        this.hookStarted(e);
        break;
      case "output": {
        this.open.get(hookKey(e))?.log?.writeLine(e.line, e.partial);
        break;
      }
      case "timeout-warning":
        break;
      case "hook-finished":
        this.hookFinished(e);
        break;
      case "job-finished": {
        const j = this.jobs.get(e.job) ?? this.addJob(e.job, false);
        j.status = e.status;
        j.endMs = e.time;
        j.durationMs = e.durationMs;
        if (j.startMs === undefined) j.startMs = e.time - e.durationMs;
        if (e.reason) j.reason = e.reason;
        this.scheduleWrite();
        break;
      }
      case "run-finished":
        this.status = e.interrupted ? "interrupted" : "finished";
        this.endMs = e.time;
        if (this.startMs === undefined) this.startMs = e.time - e.durationMs;
        this.failedHooks = [...e.failedHooks];
        this.settle(e.passed, "passed");
        this.settle(e.failed, "failed");
        this.settle(e.aborted, "aborted");
        this.scheduleWrite();
        break;
      case "message":
        break;
      default:
        // Scenario events: the scenario's own writer records them.
        break;
    }
  }

  /** The run as run.json shows it now. */
  snapshot(): RunJson {
    const now = this.now();
    const start = this.startMs ?? now;
    const end = this.endMs;
    const jobs = [...this.jobs.values()].map((j) => this.jobJson(j));
    const count = (s: JobStatus): number => jobs.filter((j) => j.status === s).length;
    const hostList: HostJson[] = [...this.hosts.values()].map((h) => ({
      name: h.name,
      backend: h.backend,
      system: h.system,
      address: h.address,
      allocatedTime: new Date(h.allocatedMs).toISOString(),
      ...(h.discardedMs !== undefined ? { discardedTime: new Date(h.discardedMs).toISOString() } : {}),
      ...(h.discardReason ? { discardReason: h.discardReason } : {}),
      ...(h.broken ? { broken: h.broken } : {}),
      ...(h.reused ? { reused: true } : {}),
      ...(h.kept ? { kept: true } : {}),
    }));
    return {
      format: RUN_JSON_FORMAT,
      runId: this.runId,
      seed: this.seed,
      status: this.status,
      startTime: new Date(start).toISOString(),
      ...(end !== undefined ? { endTime: new Date(end).toISOString() } : {}),
      durationMs: (end ?? now) - start,
      workers: this.workers,
      totals: {
        jobs: Math.max(this.totalJobs, jobs.length),
        passed: count("passed"),
        failed: count("failed"),
        aborted: count("aborted"),
        skipped: count("skipped"),
      },
      failedHooks: this.failedHooks,
      jobs,
      hooks: this.runHooks.map((h) => hookJson(h)),
      hosts: hostList,
    };
  }

  /** Resolves once run.json holds everything handled so far (no rewrite pending). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * Close every log file and write the final run.json. A run that never saw
   * run-finished is recorded as `incomplete`, its unfinished jobs as aborted.
   * Safe to call more than once.
   */
  finish(): Promise<RunJson> {
    this.finished ??= this.doFinish();
    return this.finished;
  }

  // --- jobs and hooks ---

  /**
   * Directories made or being made, off the event loop: a mkdir costs 0.2 ms
   * or more on a busy disk, once per job. Failures are reported once.
   */
  private readonly madeDirs = new Map<string, Promise<void>>();

  private madeDir(dir: string): Promise<void> {
    let made = this.madeDirs.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true }).then(() => undefined);
      made.catch((err: unknown) => this.fail(err));
      this.madeDirs.set(dir, made);
    }
    return made;
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    mkdirSync(this.runDir, { recursive: true });
    this.dirReady = true;
  }

  private addJob(name: string, withDir: boolean): JobState {
    let dir: string | undefined;
    if (withDir) {
      dir = this.dirNames.take(safeName(name));
      try {
        this.ensureDir();
        void this.madeDir(join(this.runDir, dir));
      } catch (err) {
        this.fail(err);
      }
    }
    const j: JobState = {
      name,
      parts: parseJobName(name),
      ...(dir !== undefined ? { dir } : {}),
      logNames: new UniqueNames(),
      status: "running",
      seq: 0,
      durationMs: 0,
      hosts: [],
      roles: new Map(),
      hooks: [],
    };
    this.jobs.set(name, j);
    return j;
  }

  private jobStarted(name: string, hosts: readonly string[], seq: number, time: number, roles?: readonly JobHostRole[]): void {
    const existing = this.jobs.get(name);
    const j = existing && existing.dir !== undefined ? existing : this.addJob(name, true);
    if (existing && existing !== j) {
      // Seen before it started (only in lists); keep what we knew.
      j.hooks.push(...existing.hooks);
    }
    j.hosts = [...hosts];
    j.roles = new Map((roles ?? []).map((r) => [r.host, r]));
    j.seq = seq;
    j.startMs = time;
    j.status = "running";
    this.scheduleWrite();
  }

  private logFor(job: JobState | undefined, level: Level, phase: Phase, context: string, host: string): string | undefined {
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

  private openHook(e: HookStarted | HookFinished, startMs: number): OpenHook {
    const job = this.jobs.get(e.job);
    const logPath = this.logFor(job, e.level, e.phase, e.context, e.host);
    const as = job?.roles.get(e.host)?.name;
    const state: HookState = {
      phase: e.phase,
      level: e.level,
      context: e.context,
      host: e.host,
      ...(as !== undefined ? { as } : {}),
      startMs,
      exitCode: null,
      durationMs: 0,
      ...(logPath !== undefined ? { logPath } : {}),
      done: false,
    };
    (job ? job.hooks : this.runHooks).push(state);
    let log: HookLog | undefined;
    if (logPath !== undefined) {
      try {
        this.ensureDir();
        const abs = join(this.runDir, logPath);
        log = new HookLog(abs, this.madeDir(join(abs, "..")), (err) => this.fail(err));
        this.watchLongHooks();
      } catch (err) {
        this.fail(err);
      }
    }
    return { state, ...(log ? { log } : {}) };
  }

  /** Once a second, hooks running for a while switch their logs to streaming, so they can be followed. */
  private watchLongHooks(): void {
    if (this.streamTimer || this.finishing) return;
    this.streamTimer = setInterval(() => {
      const before = this.now() - STREAM_AFTER_MS;
      for (const o of this.open.values()) if (o.state.startMs <= before) o.log?.startStreaming();
    }, STREAM_AFTER_MS);
    this.streamTimer.unref();
  }

  private hookStarted(e: HookStarted): void {
    const key = hookKey(e);
    const previous = this.open.get(key);
    if (previous) this.closeHook(previous);
    this.open.set(key, this.openHook(e, e.time));
  }

  private hookFinished(e: HookFinished): void {
    const key = hookKey(e);
    const o = this.open.get(key) ?? this.openHook(e, e.time - e.durationMs);
    this.open.delete(key);
    const st = o.state;
    st.endMs = e.time;
    st.exitCode = e.exitCode;
    if (e.killedBy) st.killedBy = e.killedBy;
    st.durationMs = e.durationMs;
    st.done = true;
    if (hookFailed(st)) {
      st.output = lastBytes(failureOutput(e.output, e.killedBy), MAX_FAILURE_OUTPUT);
      st.error = e.error ?? failureDetail(st);
    }
    if (o.log) {
      if (o.log.lines === 0 && e.output.trim() !== "") o.log.write(e.output.endsWith("\n") ? e.output : e.output + "\n");
      if (e.killedBy === "timeout" && !e.output.trimEnd().endsWith("<kill-timeout reached>")) {
        o.log.write("<kill-timeout reached>\n");
      }
    }
    this.closeHook(o);
    if (hookFailed(st)) this.scheduleWrite();
  }

  private closeHook(o: OpenHook): void {
    if (!o.log) return;
    const p = o.log.end();
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }

  /** Jobs named in run-finished's lists: fill in those never seen or never finished. */
  private settle(names: readonly string[], status: JobStatus): void {
    for (const name of names) {
      const j = this.jobs.get(name) ?? this.addJob(name, false);
      if (j.status === "running") j.status = status;
    }
  }

  private jobJson(j: JobState): JobJson {
    const hooks = j.hooks.map((h) => hookJson(h));
    const hosts = j.hosts.length > 0 ? j.hosts : [...new Set(j.hooks.map((h) => h.host).filter((h) => h !== ""))];
    const hostList: JobHostJson[] = hosts.map((name) => hostJson(j, name));
    const reason = j.reason ?? (j.status === "failed" ? deriveReason(j) : undefined);
    return {
      name: j.name,
      backend: j.parts.backend,
      system: j.parts.system,
      suite: j.parts.suite,
      task: j.parts.task,
      variant: j.parts.variant,
      sample: j.parts.sample,
      ...(j.dir !== undefined ? { dir: j.dir } : {}),
      status: j.status,
      seq: j.seq,
      ...(j.startMs !== undefined ? { startTime: iso(j.startMs)! } : {}),
      ...(j.endMs !== undefined ? { endTime: iso(j.endMs)! } : {}),
      durationMs: j.durationMs,
      hosts: hostList,
      hooks,
      ...(reason ? { reason } : {}),
    };
  }

  // --- run.json ---

  private scheduleWrite(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty) {
      const wait = this.lastWrite + this.rewriteMs - this.now();
      if (wait > 0 && !this.finishing) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.wakeTimer = setTimeout(resolve, wait);
        });
        this.wake = undefined;
        this.wakeTimer = undefined;
      }
      this.dirty = false;
      try {
        this.ensureDir();
        await writeFileAtomic(this.runJsonPath, JSON.stringify(this.snapshot(), null, 2) + "\n");
      } catch (err) {
        this.fail(err);
      }
      this.lastWrite = this.now();
    }
    this.writing = undefined;
  }

  private async doFinish(): Promise<RunJson> {
    this.finishing = true;
    if (this.streamTimer) clearInterval(this.streamTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wake?.();
    for (const o of this.open.values()) this.closeHook(o);
    this.open.clear();
    if (this.status === "running") {
      this.status = "incomplete";
      this.endMs = this.now();
      for (const j of this.jobs.values()) {
        if (j.status === "running") {
          j.status = "aborted";
          j.reason ??= "the run ended before the job finished";
        }
      }
    }
    await Promise.all([...this.closing]);
    if (this.writing) await this.writing;
    this.scheduleWrite();
    await this.writing;
    return this.snapshot();
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.errors.push(e);
    if (this.errors.length <= 5) this.onError?.(e);
  }
}

function hookJson(h: HookState): HookJson {
  const status = !h.done ? "running" : hookFailed(h) ? "failed" : "passed";
  return {
    phase: h.phase,
    level: h.level,
    context: h.context,
    host: h.host,
    ...(h.as !== undefined ? { as: h.as } : {}),
    exitCode: h.exitCode,
    ...(h.killedBy ? { killedBy: h.killedBy } : {}),
    status,
    durationMs: h.durationMs,
    startTime: new Date(h.startMs).toISOString(),
    ...(h.endMs !== undefined ? { endTime: new Date(h.endMs).toISOString() } : {}),
    ...(h.logPath !== undefined ? { logPath: h.logPath } : {}),
    ...(h.error !== undefined ? { error: h.error } : {}),
    ...(h.output !== undefined ? { output: h.output } : {}),
  };
}

/** One host's share of a job: failed if any of its scripts failed, else by its execute script. */
function hostJson(j: JobState, name: string): JobHostJson {
  const mine = j.hooks.filter((h) => h.host === name);
  const executes = mine.filter((h) => h.phase === "execute");
  const last = executes[executes.length - 1];
  const firstFailed = mine.filter((h) => hookFailed(h)).sort((a, b) => (a.endMs ?? 0) - (b.endMs ?? 0))[0];
  let status: JobHostJson["status"];
  if (firstFailed) status = "failed";
  else if (last?.done) status = "passed";
  else if (j.status === "running") status = "running";
  else if (j.status === "passed") status = "passed";
  else if (j.status === "skipped") status = "skipped";
  else status = "aborted";
  const role = j.roles.get(name);
  const logs = mine.map((h) => h.logPath).filter((p): p is string => p !== undefined);
  return {
    name,
    ...(role ? { as: role.name, role: role.role } : {}),
    status,
    exitCode: last?.done ? last.exitCode : null,
    durationMs: executes.reduce((sum, h) => sum + h.durationMs, 0),
    ...(executes[0]?.logPath !== undefined ? { logPath: executes[0].logPath } : {}),
    ...(logs.length > 0 ? { logs } : {}),
    ...(firstFailed
      ? {
          error: `${firstFailed.level === "task" ? "" : firstFailed.level + " "}${firstFailed.phase}: ${firstFailed.error ?? failureDetail(firstFailed)}`,
        }
      : {}),
  };
}

/** `exit status 1`, `kill-timeout reached`, `killed (interrupt)`. */
function failureDetail(h: HookState): string {
  return h.killedBy === "timeout" ? "kill-timeout reached" : h.killedBy ? `killed (${h.killedBy})` : `exit status ${h.exitCode}`;
}

/** `execute failed on client-2: exit status 1`, naming every failing host of a multi-host job. */
function deriveReason(j: JobState): string | undefined {
  const failing = j.hooks.filter((h) => hookFailed(h)).sort((a, b) => (a.endMs ?? 0) - (b.endMs ?? 0));
  const first = failing[0];
  if (!first) return undefined;
  let reason = `${first.phase} failed on ${first.as ?? first.host}: ${failureDetail(first)}`;
  const hosts = [...new Set(failing.map((h) => h.as ?? h.host))];
  if (hosts.length > 1) reason += ` (failed hosts: ${hosts.join(", ")})`;
  return reason;
}
