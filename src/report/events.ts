import type { FailureKind } from "../script/result.js";
import { redactDeep } from "../secrets/registry.js";

// The one event stream. The engine emits; writers (terminal, plain log,
// per-job log files, JSON, JUnit, HTML) consume. Nothing else prints.

export type JobStatus = "passed" | "failed" | "aborted" | "skipped";

/** What a script is doing: Spread's verbs. */
export type Phase = "allocate" | "prepare" | "execute" | "restore" | "debug" | "discard" | "artifacts";

/** `project`, `backend`, `suite` or `task`: at which level a hook script runs. */
export type Level = "project" | "backend" | "suite" | "task";

interface Base {
  /** Milliseconds since the epoch. */
  readonly time: number;
}

export interface RunStarted extends Base {
  readonly type: "run-started";
  readonly runId: string;
  readonly dir: string;
  readonly seed: number;
  readonly jobs: number;
  readonly workers: number;
}

export interface HostAllocated extends Base {
  readonly type: "host-allocated";
  readonly host: string;
  readonly backend: string;
  readonly system: string;
  readonly address: string;
  /** A host an earlier run kept (-reuse), not a new one. */
  readonly reused?: boolean;
}

/**
 * A step in bringing a host up or down, before it is done, so that writers can
 * print Spread's progress lines (`Allocating backend:system...`, `Connecting
 * to ...`, `Sending project content to ...`, `Reusing project data on ...`
 * (a reused host keeps its copy), `Discarding ...`, `Keeping ...` (-reuse:
 * the host outlives the run)). Optional: writers also cope when only
 * host-allocated / host-discarded are emitted.
 */
export interface HostStep extends Base {
  readonly type: "host-step";
  readonly step: "allocating" | "connecting" | "sending" | "reusing" | "discarding" | "keeping";
  readonly backend: string;
  readonly system: string;
  /** The host's name; absent while allocating (it has none yet). */
  readonly host?: string;
  readonly address?: string;
}

export interface HostDiscarded extends Base {
  readonly type: "host-discarded";
  readonly host: string;
  readonly reason?: string;
  /** Let go of but kept for later runs (-reuse), not destroyed. */
  readonly kept?: boolean;
}

/** A host in a multi-host job: the machine `debian-3` plays `client-1`, of role `client`. */
export interface JobHostRole {
  /** The host's own name, as in every other event. */
  readonly host: string;
  /** Its name in the job (TROUPE_HOST): `server`, `client-1`. */
  readonly name: string;
  readonly role: string;
}

export interface JobStarted extends Base {
  readonly type: "job-started";
  readonly job: string;
  /** Hosts running the job (one for a single-host job). */
  readonly hosts: readonly string[];
  /** For a task with `hosts:`, who plays what, in the order of `hosts`; absent for a single-host job. */
  readonly roles?: readonly JobHostRole[];
  /** 1-based position among executed jobs, and the total. */
  readonly seq: number;
  readonly total: number;
}

export interface HookStarted extends Base {
  readonly type: "hook-started";
  /** The job name, or for project/backend/suite hooks the context string (`backend:system[:suite]`). */
  readonly job: string;
  readonly context: string;
  readonly level: Level;
  readonly phase: Phase;
  readonly host: string;
}

export interface Output extends Base {
  readonly type: "output";
  readonly job: string;
  readonly context: string;
  readonly phase: Phase;
  readonly host: string;
  readonly stream: "stdout" | "stderr";
  /** One line, without its newline. */
  readonly line: string;
  /** A piece of a very long line: the line goes on in the next output event of this stream. */
  readonly partial?: boolean;
}

export interface TimeoutWarning extends Base {
  readonly type: "timeout-warning";
  readonly job: string;
  readonly context: string;
  readonly phase: Phase;
  readonly host: string;
  readonly afterMs: number;
  /** What the script printed since the last warning. */
  readonly output: string;
}

export interface HookFinished extends Base {
  readonly type: "hook-finished";
  readonly job: string;
  readonly context: string;
  readonly level: Level;
  readonly phase: Phase;
  readonly host: string;
  /** Exit status; null when killed by a signal or a timeout. */
  readonly exitCode: number | null;
  readonly killedBy?: "timeout" | "interrupt" | "signal";
  /** Why the hook failed, in one line: ERROR's message, `kill-timeout reached`, `exit status 1`... */
  readonly error?: string;
  /** What kind of failure it was (script/result.ts). */
  readonly failure?: FailureKind;
  readonly durationMs: number;
  /** The end of the script's combined output (for failure reports); the log holds all of it. */
  readonly output: string;
  /** `output` lost its beginning: the script printed more than troupe keeps in memory. */
  readonly truncated?: boolean;
  /** Characters the script printed in all (both streams). */
  readonly printed?: number;
  readonly logPath?: string;
}

export interface JobFinished extends Base {
  readonly type: "job-finished";
  readonly job: string;
  readonly status: JobStatus;
  readonly durationMs: number;
  readonly reason?: string;
  /** A multi-host job: its key-value store as it ended (see JobKv). */
  readonly kv?: JobKv;
}

/**
 * A multi-host job's key-value store as the job ended: the first MAX_JOB_KV
 * keys in the order they were set (each value at most 32768 bytes, the sync
 * service's limit), and how many more there were. Entries, not an object, so
 * that keys are redacted like values.
 */
export interface JobKv {
  readonly entries: readonly (readonly [key: string, value: string])[];
  readonly dropped: number;
}

/** The most keys of a job's key-value store kept in its results. */
export const MAX_JOB_KV = 100;

export interface WorkerBroken extends Base {
  readonly type: "worker-broken";
  readonly host: string;
  readonly reason: string;
}

/** A hook that failed outside any job's own result (prepare and restore of every level, artifacts). */
export interface FailedHook {
  readonly phase: Phase;
  readonly level: Level;
  /** The job's name (task level), or the context: `backend:system` (project, backend), `backend:system:suite/`. */
  readonly context: string;
  /** The host it failed on. */
  readonly host: string;
  /** The host's name in its multi-host job (`client-1`). */
  readonly as?: string;
  readonly error?: string | undefined;
}

/** A failed hook in one line, as results list them: `prepare project (local:debian)`, `restore task (JOB) on client-1`. */
export function describeFailedHook(f: FailedHook): string {
  const what = f.phase === "artifacts" ? "artifacts" : `${f.phase} ${f.level}`;
  return `${what} (${f.context})${f.as !== undefined ? ` on ${f.as}` : ""}`;
}

export interface RunFinished extends Base {
  readonly type: "run-finished";
  readonly passed: readonly string[];
  readonly failed: readonly string[];
  readonly aborted: readonly string[];
  /** Hook-level failures, in the order they happened. */
  readonly failedHooks: readonly FailedHook[];
  readonly durationMs: number;
  readonly interrupted: boolean;
}

export interface Message extends Base {
  readonly type: "message";
  readonly level: "info" | "warn" | "error" | "debug";
  readonly text: string;
}

/**
 * The user's terminal changes hands: an interactive shell (`--shell`,
 * `--debug`, `--shell-before/after`) takes it (`holder: "shell"`), then
 * gives it back (`holder: "troupe"`). Writers that draw on the terminal
 * stop drawing and hold their lines in between.
 */
export interface TerminalHandover extends Base {
  readonly type: "terminal";
  readonly holder: "shell" | "troupe";
  /** The host the shell runs on. */
  readonly host?: string;
}

/**
 * The user interrupted (Ctrl-C, SIGTERM, SIGHUP): the first time the run
 * stops softly, the second time hard. `text` says what happens now and
 * what another Ctrl-C would do, for the terminal to keep in view.
 */
export interface Interrupted extends Base {
  readonly type: "interrupt";
  readonly second: boolean;
  readonly text: string;
}

// Scenarios (`troupe play`): stages of steps, a step being one job on one
// host for one item. Their script output comes as `output` events (job:
// `STAGE / JOB`, context: the stage, phase: execute).

export interface ScenarioStarted extends Base {
  readonly type: "scenario-started";
  readonly runId: string;
  readonly dir: string;
  readonly scenario: string;
  /** The scenario file as shown in messages; absent for a scenario defined in code. */
  readonly file?: string;
  readonly hosts: readonly string[];
  readonly stages: number;
}

/** The scenario's Prometheus server (the `prometheus:` section): started, or its targets changed. */
export interface PrometheusUpdated extends Base {
  readonly type: "prometheus-updated";
  readonly url: string;
  /** Its config, data (data/) and log, in the run's results folder. */
  readonly dir: string;
  /** The scenario host it runs on (`on: HOST`); absent on the orchestrator. */
  readonly host?: string;
  /** The metrics URLs it scrapes now. */
  readonly targets: readonly string[];
}

export interface StageStarted extends Base {
  readonly type: "stage-started";
  readonly stage: string;
  /** 1-based, and the number of stages. */
  readonly index: number;
  readonly total: number;
  readonly hosts: readonly string[];
}

export type StepKind = "run" | "copy" | "service" | "call" | "plugin";

export interface StepStarted extends Base {
  readonly type: "step-started";
  readonly stage: string;
  readonly stageIndex: number;
  readonly job: string;
  /** 0-based position of the job in its stage, as written (CI annotations point there). */
  readonly jobIndex?: number;
  readonly kind: StepKind;
  readonly host: string;
  /** The item, as shown (absent when the job has no with_items). */
  readonly item?: string;
}

export interface StepFinished extends Base {
  readonly type: "step-finished";
  readonly stage: string;
  readonly stageIndex: number;
  readonly job: string;
  readonly jobIndex?: number;
  readonly kind: StepKind;
  readonly host: string;
  readonly item?: string;
  /** ignored: failed, with ignore_failure; stopped: killed because the scenario stopped. */
  readonly status: "passed" | "failed" | "ignored" | "stopped";
  readonly exitCode: number | null;
  readonly error?: string;
  readonly durationMs: number;
  /** stdout and stderr, for failure reports. */
  readonly output: string;
}

export interface ServiceStarted extends Base {
  readonly type: "service-started";
  readonly host: string;
  readonly service: string;
  readonly endpoint?: string;
  /** The metrics URL (endpoint + metrics path), when the service declares one. */
  readonly metrics?: string;
}

export interface ServiceStopped extends Base {
  readonly type: "service-stopped";
  readonly host: string;
  readonly service: string;
  /** True when troupe stopped it (end of scenario); false when it exited by itself. */
  readonly expected: boolean;
  readonly exitCode: number | null;
  readonly reason?: string;
}

/** A step's or service's output kept on its host (`log: keep` or `summary`), fetched into the run's folder. */
export interface LogKept extends Base {
  readonly type: "log-kept";
  readonly stage: string;
  readonly stageIndex: number;
  readonly job: string;
  readonly host: string;
  readonly item?: string;
  /** Set for a service's log (fetched when the service stopped). */
  readonly service?: string;
  readonly mode: "keep" | "summary";
  /** Where it is on the host. */
  readonly hostFile: string;
  /** The fetched copy, relative to the run's folder; absent when it could not be fetched. */
  readonly file?: string;
  readonly lines: number;
  readonly bytes: number;
  /** How many of its last lines were said just before, as output (log: summary). */
  readonly shown: number;
  /** Why it was not fetched. */
  readonly error?: string;
}

export interface VarsUpdated extends Base {
  readonly type: "vars-updated";
  readonly stage: string;
  readonly job: string;
  readonly host: string;
  /** New values; null for a removed variable. */
  readonly changes: Readonly<Record<string, unknown>>;
}

export interface StageFinished extends Base {
  readonly type: "stage-finished";
  readonly stage: string;
  readonly index: number;
  readonly status: "passed" | "failed" | "stopped";
  readonly durationMs: number;
}

export interface ScenarioFailure {
  readonly stage: string;
  readonly stageIndex: number;
  readonly job: string;
  readonly host: string;
  readonly item?: string;
  readonly reason: string;
  readonly output?: string;
}

export interface ScenarioFinished extends Base {
  readonly type: "scenario-finished";
  readonly status: "passed" | "failed" | "interrupted" | "error";
  readonly exitCode: number;
  readonly durationMs: number;
  /** The first failure that stopped the scenario (and later ones that were ignored are in step-finished events). */
  readonly failure?: ScenarioFailure;
  /** For status "error": what went wrong outside any step (a host could not be allocated, ...). */
  readonly error?: string;
  readonly vars: Readonly<Record<string, unknown>>;
}

/**
 * A host of a multi-host job waited on its peers through troupe-ctl
 * (`barrier`, `wait`, `sync`, `lock`, `kv get --wait`): when the request
 * came, what it was, and whether it was answered (`ok`) or failed (a
 * timeout, a poisoned job). `time` is when it ended.
 */
export interface SyncWait extends Base {
  readonly type: "sync-wait";
  readonly job: string;
  /** The host's own name (`debian-3`). */
  readonly host: string;
  /** Its name in the job (`client-1`). */
  readonly as: string;
  /** `barrier ready`, `wait done --all`, ... */
  readonly what: string;
  readonly startMs: number;
  readonly ok: boolean;
}

export type TroupeEvent =
  | RunStarted
  | HostStep
  | HostAllocated
  | HostDiscarded
  | JobStarted
  | HookStarted
  | Output
  | TimeoutWarning
  | HookFinished
  | JobFinished
  | WorkerBroken
  | RunFinished
  | Message
  | TerminalHandover
  | Interrupted
  | ScenarioStarted
  | PrometheusUpdated
  | StageStarted
  | StepStarted
  | StepFinished
  | ServiceStarted
  | ServiceStopped
  | LogKept
  | VarsUpdated
  | StageFinished
  | ScenarioFinished
  | SyncWait;

/** Distributive Omit, so that `emit({type: ..., ...})` type-checks per variant. */
export type EventInput = TroupeEvent extends infer E ? (E extends TroupeEvent ? Omit<E, "time"> : never) : never;

export type Listener = (event: TroupeEvent) => void;

/** A synchronous fan-out of events to writers. */
export class EventStream {
  private readonly listeners: Listener[] = [];

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Every event, as every listener gets it: with the process's secrets hidden (secrets/registry.ts). */
  emit(event: EventInput): void {
    const full = redactDeep({ ...event, time: Date.now() }) as TroupeEvent;
    for (const l of this.listeners) l(full);
  }

  message(level: Message["level"], text: string): void {
    this.emit({ type: "message", level, text });
  }
}
