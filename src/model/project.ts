// The loaded project: what config/ produces and plan/ consumes.
//
// Field names follow Spread's (canonical/spread, spread/project.go) so that a
// Spread project means the same thing here. Values are as written by the user
// (scripts trimmed, durations parsed); nothing is expanded yet. Every entity
// remembers where it and each of its fields came from, so that planning errors
// can point at `file:line:col` too.

import type { SourcePos } from "./position.js";

/** Where each field of an entity was written, keyed by the YAML key. */
export type FieldPositions = Readonly<Record<string, SourcePos>>;

/** One `KEY: value` entry of an `environment:` map, in file order. */
export interface EnvEntry {
  /** The key as written, possibly with a variant suffix: `SUBJECT/foo,bar`. */
  readonly key: string;
  readonly value: string;
  readonly pos: SourcePos;
}

/** A list that replaces, or adds to / removes from, the inherited one (`+x`, `-x`). */
export type DeltaList = readonly string[];

/** Durations in milliseconds. `undefined` means "not set here"; Spread's -1 stays -1 (no timeout). */
export type DurationMs = number;

/** Hooks that several levels share. */
export interface Hooks {
  readonly prepare?: string;
  readonly restore?: string;
  readonly debug?: string;
  readonly prepareEach?: string;
  readonly restoreEach?: string;
  readonly debugEach?: string;
}

/** Settings that cascade from project to task. */
export interface Cascading {
  readonly environment: readonly EnvEntry[];
  /** Names of environment variables whose values are secret (troupe's `secrets:`; see secrets/marking.ts). */
  readonly secrets?: readonly string[];
  readonly variants?: DeltaList;
  readonly warnTimeout?: DurationMs;
  readonly killTimeout?: DurationMs;
  /** How long every host of a multi-host job may wait with none able to go on (troupe's `deadlock-timeout`). */
  readonly deadlockTimeout?: DurationMs;
  readonly priority?: number;
  readonly manual?: boolean;
}

export interface Located {
  /** Where the entity starts (its key, or the file for a task). */
  readonly pos: SourcePos;
  readonly where: FieldPositions;
}

/** A role of a multi-host task (troupe's own `hosts:` key). */
export interface HostRole {
  readonly name: string;
  readonly count: number;
  /** `backend:system` or `system` the role's hosts come from; the job's own system by default. */
  readonly system?: string;
  readonly pos: SourcePos;
}

/**
 * A port troupe reserves before a job starts (troupe's own `ports:` key on a
 * task): a TCP port free on the hosts that will listen on it, known to every
 * host of the job as TROUPE_PORT_<NAME> and `troupe-ctl port NAME`.
 */
export interface PortSpec {
  /** `http`, `admin`: TROUPE_PORT_HTTP. */
  readonly name: string;
  /** The role or host (`server`, `client-1`) that listens on it; every host of the job when absent. */
  readonly on?: string;
  readonly pos: SourcePos;
}

export interface Task extends Located, Cascading {
  /** `suite/dir/task`, e.g. `tests/main/hello`. */
  readonly name: string;
  readonly suite: string;
  /** Absolute path of the task directory on the orchestrator. */
  readonly dir: string;
  readonly summary?: string;
  readonly details?: string;
  readonly systems?: DeltaList;
  readonly backends?: DeltaList;
  readonly samples?: number;
  readonly prepare?: string;
  readonly restore?: string;
  readonly execute?: string;
  readonly debug?: string;
  /** Per-role scripts: `execute/ROLE`, `prepare/ROLE`, `restore/ROLE`, `debug/ROLE`. */
  readonly roleScripts: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly artifacts: readonly string[];
  readonly hosts?: readonly HostRole[];
  /** Ports to reserve before each of the task's jobs starts; absent when the task has no `ports:`. */
  readonly ports?: readonly PortSpec[];
}

export interface Suite extends Located, Cascading, Hooks {
  /** With its trailing slash, as Spread writes it: `tests/main/`. */
  readonly name: string;
  /** Absolute path of the suite directory on the orchestrator. */
  readonly dir: string;
  readonly summary?: string;
  readonly systems?: DeltaList;
  readonly backends?: DeltaList;
  readonly tasks: readonly Task[];
}

export interface System extends Located, Cascading {
  readonly name: string;
  readonly backend: string;
  readonly image: string;
  readonly workers: number;
  readonly username?: string;
  readonly password?: string;
  /** Everything else the backend type understands (kernel, storage, plan, ...). */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface Backend extends Located, Cascading, Hooks {
  readonly name: string;
  /** The backend type; Spread defaults it to the backend's name. */
  readonly type: string;
  readonly key?: string;
  readonly allocate?: string;
  readonly discard?: string;
  readonly haltTimeout?: DurationMs;
  readonly systems: readonly System[];
  /** Everything else the backend type understands (memory, plan, location, ...). */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** The shells a project's scripts may be written for. */
export const SCRIPT_SHELLS = ["bash", "sh"] as const;
export type ScriptShell = (typeof SCRIPT_SHELLS)[number];

export interface Project extends Located, Cascading, Hooks {
  readonly name: string;
  /** The project file that was read. */
  readonly file: string;
  /** The directory holding the project (after `reroot`). */
  readonly dir: string;
  /** Spread's `path`: where the project lives on the hosts. */
  readonly remotePath: string;
  /** Which file format it came from. */
  readonly flavour: "troupe" | "spread";
  /**
   * What runs the project's scripts on hosts: bash, as Spread runs them (the
   * default, and always for Spread projects), or a plain POSIX `sh`.
   */
  readonly shell: ScriptShell;
  readonly repack?: string;
  readonly reroot?: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly rename: readonly string[];
  readonly backends: readonly Backend[];
  readonly suites: readonly Suite[];
}
