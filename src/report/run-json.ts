// The shape of `run.json`, the one machine-readable record of a run, and how
// it is made from the run model (toRunJson). Written by the run.json
// reporter into `.troupe/runs/<run-id>/run.json`, copied by `--json FILE`,
// read back by toJUnit (junit.ts). Times are ISO 8601 UTC
// strings; durations are milliseconds; paths are relative to the run
// directory, with `/` separators.

import { describeFailedHook, type JobStatus, type Level, type Phase } from "./events.js";
import { failureOutput } from "./format.js";
import { failureDetail, hookFailed, type RunModel } from "./model/run-model.js";
import type { HookState, HostState, JobState } from "./model/state.js";
import type { RunProcess } from "../runs/process.js";

export const RUN_JSON_FORMAT = "troupe-run/1";

/** One script run on one host: a hook of a job, or a project/backend/suite hook. */
export interface HookJson {
  readonly phase: Phase;
  readonly level: Level;
  /** Spread's context string: the job name, or `backend:system[:suite/]`. */
  readonly context: string;
  readonly host: string;
  /** In a multi-host job: the host's name in the job (TROUPE_HOST), `server`, `client-1`. */
  readonly as?: string;
  /** Exit status; null when killed, or while still running. */
  readonly exitCode: number | null;
  readonly killedBy?: "timeout" | "interrupt" | "signal";
  readonly status: "running" | "passed" | "failed";
  readonly durationMs: number;
  readonly startTime: string;
  readonly endTime?: string;
  /**
   * The log file, relative to the run directory: the hook's own when it
   * failed, printed more than 32 KiB or ran longer than 1 s; else the run's
   * `output.log`, where its section starts with `==> CONTEXT on HOST: PHASE <==`.
   */
  readonly logPath?: string;
  /** For a failed script: why, in one line (`exit status 1`, ERROR's message, `kill-timeout reached`). */
  readonly error?: string;
  /** For a failed script: what it printed (its last 64 KiB), for reports. */
  readonly output?: string;
}

/**
 * One host of a job (one entry for a single-host job). A multi-host job
 * passes only if every one of its hosts passed.
 */
export interface JobHostJson {
  /** The host's own name, as in the run's `hosts` list: `debian-3`. */
  readonly name: string;
  /** In a multi-host job: its name in the job (TROUPE_HOST), `client-1`. */
  readonly as?: string;
  /** In a multi-host job: its role, `client`. */
  readonly role?: string;
  /** failed if any of its scripts failed; else passed once its execute script passed. */
  readonly status: JobStatus | "running";
  /** The execute script's exit status on this host; null if it did not end by itself or did not run. */
  readonly exitCode: number | null;
  /** How long the execute script ran on this host. */
  readonly durationMs: number;
  /** The host's execute log, relative to the run directory. */
  readonly logPath?: string;
  /** The logs that hold this host's scripts in the job (prepare, execute, restore, ...), in the order they ran; `output.log` once for those that passed quickly. */
  readonly logs?: readonly string[];
  /** Why this host failed: its first failed script, `execute: exit status 1`. */
  readonly error?: string;
}

export interface JobJson {
  /** `backend:system:suite/task[:variant][#sample]`. */
  readonly name: string;
  readonly backend: string;
  readonly system: string;
  /** `tests/main/`, with its trailing slash. */
  readonly suite: string;
  /** The task's full name: `tests/main/hello`. */
  readonly task: string;
  readonly variant: string;
  readonly sample: number;
  /** The job's folder, relative to the run directory; absent for a job that never started. */
  readonly dir?: string;
  /** `running` only in a run.json written while the run goes on. */
  readonly status: JobStatus | "running";
  /** 1-based position among executed jobs (Spread's `(N/M)`); 0 if it never started. */
  readonly seq: number;
  readonly startTime?: string;
  readonly endTime?: string;
  readonly durationMs: number;
  readonly hosts: readonly JobHostJson[];
  readonly hooks: readonly HookJson[];
  /** Why the job failed or was aborted. */
  readonly reason?: string;
  /** A multi-host job: its hosts' waits on each other (troupe-ctl barrier, wait, sync, lock), the first 200. */
  readonly waits?: readonly SyncWaitJson[];
  /** Waits past those, counted only. */
  readonly waitsDropped?: number;
  /**
   * A multi-host job: its key-value store as the job ended (`troupe-ctl kv
   * set`), redacted like the rest; the first 100 keys in the order they were
   * set, absent when it was empty.
   */
  readonly kv?: Readonly<Record<string, string>>;
  /** Keys past those 100, counted only. */
  readonly kvDropped?: number;
}

export interface SyncWaitJson {
  readonly host: string;
  /** Its name in the job. */
  readonly as: string;
  /** `barrier ready`, `wait done --all`, ... */
  readonly what: string;
  readonly startTime: string;
  readonly durationMs: number;
  /** Answered; false when it failed (timeout, the job poisoned). */
  readonly ok: boolean;
}

export interface HostJson {
  readonly name: string;
  readonly backend: string;
  readonly system: string;
  readonly address: string;
  readonly allocatedTime: string;
  readonly discardedTime?: string;
  readonly discardReason?: string;
  /** Set when the host's worker broke (lost connection, ...). */
  readonly broken?: string;
  /** A host an earlier run kept (-reuse), taken again. */
  readonly reused?: boolean;
  /** Kept at the end for later runs (-reuse): `discardedTime` is when it was let go of. */
  readonly kept?: boolean;
}

export interface RunJson {
  readonly format: typeof RUN_JSON_FORMAT;
  readonly runId: string;
  readonly seed: number;
  /**
   * `running` while the run goes on; `incomplete` when the writer was closed
   * before the run finished; `killed` when a later look found the run's
   * process gone while its run.json still said `running` (kill -9, a crash,
   * a reboot).
   */
  readonly status: "running" | "finished" | "interrupted" | "incomplete" | "killed";
  readonly startTime: string;
  readonly endTime?: string;
  readonly durationMs: number;
  readonly workers: number;
  readonly totals: {
    readonly jobs: number;
    readonly passed: number;
    readonly failed: number;
    readonly aborted: number;
    readonly skipped: number;
  };
  /** Hook-level failures as the engine named them (`prepare project (local:debian)`). */
  readonly failedHooks: readonly string[];
  readonly jobs: readonly JobJson[];
  /** Project, backend and suite hooks (those not part of one job). */
  readonly hooks: readonly HookJson[];
  readonly hosts: readonly HostJson[];
  /** The troupe process that wrote it (pid, its start time, the boot, the machine): set in the run's own run.json. */
  readonly process?: RunProcess;
}

/** Keep at most this much of a failed script's output in run.json. */
const MAX_FAILURE_OUTPUT = 64 * 1024;

/**
 * Each model's run.json once its run has ended, with the revision it was made
 * from: the reporters that write it at the end (run.json, report.html, JUnit)
 * share one, where each made its own (tens of ms for 1,000 jobs).
 */
const ended = new WeakMap<RunModel, { readonly revision: number; readonly json: RunJson }>();

/** run.json as the model holds the run now (`now` for a run still going on). */
export function toRunJson(m: RunModel, now: number): RunJson {
  // Once the run has ended, `now` no longer matters: the same revision gives the same run.json.
  if (m.endMs === undefined) return makeRunJson(m, now);
  const known = ended.get(m);
  if (known?.revision === m.revision) return known.json;
  const json = makeRunJson(m, now);
  ended.set(m, { revision: m.revision, json });
  return json;
}

function makeRunJson(m: RunModel, now: number): RunJson {
  const start = m.startMs ?? now;
  const end = m.endMs;
  const jobs = [...m.jobs.values()].map(jobJson);
  const count = (s: JobStatus): number => jobs.filter((j) => j.status === s).length;
  return {
    format: RUN_JSON_FORMAT,
    runId: m.runId,
    seed: m.seed,
    status: m.status,
    startTime: new Date(start).toISOString(),
    ...(end !== undefined ? { endTime: new Date(end).toISOString() } : {}),
    durationMs: (end ?? now) - start,
    workers: m.workers,
    totals: {
      jobs: Math.max(m.counts.total, jobs.length),
      passed: count("passed"),
      failed: count("failed"),
      aborted: count("aborted"),
      skipped: count("skipped"),
    },
    failedHooks: m.failedHooks.map(describeFailedHook),
    jobs,
    hooks: m.runHooks.map(hookJson),
    hosts: [...m.hosts.values()].filter((h) => h.allocatedMs !== undefined).map(hostJson),
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function hostJson(h: HostState): HostJson {
  return {
    name: h.name,
    backend: h.backend,
    system: h.system,
    address: h.address,
    allocatedTime: iso(h.allocatedMs)!,
    ...(h.discardedMs !== undefined ? { discardedTime: iso(h.discardedMs)! } : {}),
    ...(h.discardReason ? { discardReason: h.discardReason } : {}),
    ...(h.broken ? { broken: h.broken } : {}),
    ...(h.reused ? { reused: true } : {}),
    ...(h.kept ? { kept: true } : {}),
  };
}

function hookJson(h: HookState): HookJson {
  const status = !h.done ? "running" : hookFailed(h) ? "failed" : "passed";
  const output = h.output !== undefined && status === "failed" ? failureOutput(h.output, h.killedBy) : undefined;
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
    ...(output !== undefined ? { output: lastBytes(output, MAX_FAILURE_OUTPUT, h.truncated === true) } : {}),
  };
}

/** Keep the end of a long text, cut at a line start, saying it was cut. */
function lastBytes(text: string, max: number, cutBefore: boolean): string {
  if (text.length <= max && !cutBefore) return text;
  const cut = text.length <= max ? text : text.slice(text.length - max);
  const nl = cut.indexOf("\n");
  const body = text.length <= max ? cut : nl >= 0 ? cut.slice(nl + 1) : cut;
  return `(... output cut ...)\n${body}`;
}

function jobJson(j: JobState): JobJson {
  const hosts = j.hosts.length > 0 ? j.hosts : [...new Set(j.hooks.map((h) => h.host).filter((h) => h !== ""))];
  const reason = j.reason ?? (j.status === "failed" ? deriveReason(j) : undefined);
  return {
    name: j.name,
    backend: j.parts.backend,
    system: j.parts.system,
    suite: j.parts.suite,
    task: j.parts.task,
    variant: j.parts.variant,
    sample: j.parts.sample,
    ...(j.dir !== undefined && j.hasFiles ? { dir: j.dir } : {}),
    status: j.status,
    seq: j.seq,
    ...(j.startMs !== undefined ? { startTime: iso(j.startMs)! } : {}),
    ...(j.endMs !== undefined ? { endTime: iso(j.endMs)! } : {}),
    durationMs: j.durationMs,
    hosts: hosts.map((name) => jobHostJson(j, name)),
    hooks: j.hooks.map(hookJson),
    ...(reason ? { reason } : {}),
    ...(j.waits?.length
      ? {
          waits: j.waits.map((w) => ({
            host: w.host,
            as: w.as,
            what: w.what,
            startTime: iso(w.startMs)!,
            durationMs: w.endMs - w.startMs,
            ok: w.ok,
          })),
        }
      : {}),
    ...(j.waitsDropped ? { waitsDropped: j.waitsDropped } : {}),
    ...(j.kv ? { kv: Object.fromEntries(j.kv.entries) } : {}),
    ...(j.kv?.dropped ? { kvDropped: j.kv.dropped } : {}),
  };
}

/** One host's share of a job: failed if any of its scripts failed, else by its execute script. */
function jobHostJson(j: JobState, name: string): JobHostJson {
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
  const logs = [...new Set(mine.map((h) => h.logPath).filter((p): p is string => p !== undefined))];
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
