// The read model of a run: what every reporter reads. RunModel (run-model.ts)
// builds it from the event stream; nothing else writes it.

import type { FailureKind } from "../../script/result.js";
import type { JobHostRole, JobKv, JobStatus, Level, Phase, ScenarioFailure, StepKind } from "../events.js";
import type { JobNameParts, UniqueNames } from "../names.js";

export interface HostState {
  readonly name: string;
  backend: string;
  system: string;
  address: string;
  allocatedMs?: number;
  discardedMs?: number;
  discardReason?: string;
  /** Its worker broke: why. */
  broken?: string;
  /** A host an earlier run kept (-reuse). */
  reused?: boolean;
  /** Kept at the end for later runs (-reuse). */
  kept?: boolean;
  /** What it is doing now, for live displays: a job and a verb, since when; undefined when idle. */
  activity?: { readonly job: string; readonly phase: string; readonly since: number };
}

export interface HookState {
  readonly phase: Phase;
  readonly level: Level;
  /** The job name, or for project/backend/suite hooks the context string. */
  readonly job: string;
  readonly context: string;
  readonly host: string;
  /** The host's name in its multi-host job. */
  readonly as?: string;
  readonly startMs: number;
  endMs?: number;
  exitCode: number | null;
  killedBy?: "timeout" | "interrupt" | "signal";
  failure?: FailureKind;
  /** Why it failed, in one line. */
  error?: string;
  durationMs: number;
  /**
   * Its log, relative to the run directory (undefined: no log is kept): the
   * hook's own file (`<job-folder>/execute.log`) while it runs and when it
   * failed, printed much or ran long; else, once it ended, the run's
   * `output.log`, where it is one section among others (see run-model.ts).
   */
  logPath?: string;
  /** The file reserved for it, whether it ends up there or in `output.log`. */
  readonly ownLog?: string;
  /** The end of its output, once it ended. */
  output?: string;
  /** The output kept lost its beginning (the log has all of it). */
  truncated?: boolean;
  /** It printed something (a warning says "unchanged" rather than "empty"). */
  sawOutput: boolean;
  done: boolean;
}

export interface JobState {
  readonly name: string;
  readonly parts: JobNameParts;
  /** Its folder in the run directory; absent for a job that never started. */
  dir?: string;
  readonly logNames: UniqueNames;
  status: JobStatus | "running";
  /** 1-based position among started jobs; 0 if it never started. */
  seq: number;
  total: number;
  startMs?: number;
  endMs?: number;
  durationMs: number;
  hosts: readonly string[];
  /** Multi-host job: each host's name and role in the job, by host. */
  roles: ReadonlyMap<string, JobHostRole>;
  readonly hooks: HookState[];
  reason?: string;
  /** Some of its hooks have files of their own in its folder. */
  hasFiles: boolean;
  /** Its hosts' waits on each other (barriers, messages, locks), the first MAX_JOB_WAITS. */
  waits?: SyncWaitState[];
  /** Waits past MAX_JOB_WAITS, counted only. */
  waitsDropped?: number;
  /** A multi-host job: its key-value store as it ended. */
  kv?: JobKv;
}

export interface SyncWaitState {
  readonly host: string;
  readonly as: string;
  readonly what: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly ok: boolean;
}

export interface StepState {
  readonly id: number;
  readonly stage: string;
  readonly stageIndex: number;
  readonly job: string;
  /** 0-based position of the job in its stage. */
  readonly jobIndex?: number;
  readonly kind: StepKind;
  readonly host: string;
  readonly item?: string;
  status: "running" | "passed" | "failed" | "ignored" | "stopped";
  exitCode: number | null;
  error?: string;
  readonly startMs: number;
  endMs?: number;
  durationMs: number;
  output?: string;
  /** Its output kept on the host and fetched (log: keep/summary). */
  log?: KeptLog;
}

/** A log kept on a host: where its fetched copy is (relative to the run's folder), or why it is not. */
export interface KeptLog {
  readonly mode: "keep" | "summary";
  readonly hostFile: string;
  readonly file?: string;
  readonly lines: number;
  readonly bytes: number;
  readonly error?: string;
}

export interface StageState {
  readonly index: number;
  readonly name: string;
  status: "running" | "passed" | "failed" | "stopped";
  readonly hosts: readonly string[];
  readonly startMs: number;
  durationMs: number;
  readonly steps: StepState[];
}

export interface ServiceState {
  readonly host: string;
  readonly service: string;
  readonly endpoint?: string;
  readonly metrics?: string;
  stopped?: "by troupe" | "by itself";
  exitCode?: number | null;
  reason?: string;
  log?: KeptLog;
}

export interface ScenarioState {
  readonly scenario: string;
  readonly file?: string;
  readonly hostNames: readonly string[];
  readonly totalStages: number;
  status: "running" | "passed" | "failed" | "interrupted" | "error";
  exitCode: number | null;
  durationMs: number;
  readonly stages: StageState[];
  readonly services: ServiceState[];
  vars: Record<string, unknown>;
  prometheus?: { url: string; dir: string; host?: string; targets: string[] };
  failure?: ScenarioFailure;
  error?: string;
}

/** Counts for live displays. */
export interface JobCounts {
  total: number;
  started: number;
  done: number;
  failed: number;
  aborted: number;
}
