// What a scenario is, in two forms:
//
// - the definition a user writes (scenario.yaml, scenario.json, or an object
//   given to the TypeScript API): `ScenarioDefinition` and its parts, with the
//   file's own key names (`with_items`, `vars_updates`, ...);
// - the plan troupe runs (plan.ts makes it; runner.ts runs it): hosts
//   expanded, defaults applied, every template kept with the place it was
//   written so that an error can point at it.

import type { Backend, System } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import type { YamlPath } from "../config/yaml-positions.js";
import type { SyncClient } from "../sync/client.js";

/** How the members of a group run: one after the other, or all at once. */
export type Mode = "sequential" | "concurrent";

/** A JSON-like value: what vars, items and results hold. */
export type Value = string | number | boolean | null | readonly Value[] | { readonly [key: string]: Value };

// ---------------------------------------------------------------- definition

export interface HostsDefinition {
  /** One name or a range, `node-[1..20]` (also pdsh's `node[01-20]`, `web,db[1..2]`), or a list of them; templates see vars (`node-[1..{{ vars.n }}]`). */
  readonly names: string | readonly string[];
  /** A backend declared under `backends:`, or `local` / `lab` with their defaults. Default `local`. */
  readonly backend?: string;
  /** A system of that backend; its first one by default. */
  readonly system?: string;
  /** Groups the hosts belong to (`troupe-ctl hosts GROUP`, `{{ host.groups }}`). */
  readonly groups?: string | readonly string[];
}

export type ItemsDefinition = Value | { readonly product: readonly Value[] };

export type VarUpdateDefinition =
  string | number | boolean | null | { readonly value: string | number | boolean; readonly as?: "string" | "int" | "bool" | "json" };

/** What a `call` job (TypeScript API only) is given. */
export interface CallContext {
  readonly host: { readonly name: string; readonly addr: string; readonly groups: readonly string[]; readonly dir: string };
  /** The job's copy of the variables (taken when the job started). */
  readonly vars: Readonly<Record<string, Value>>;
  readonly item: Value;
  readonly re: readonly string[];
  /** Run a script on the host (in its scenario directory, with the scenario's environment). */
  exec(script: string): Promise<{ readonly status: number | null; readonly stdout: string; readonly stderr: string }>;
  /** Resolve `HOST://SERVICE` and `HOST://path` in a value, as in scripts. */
  resolve(text: string): Promise<string>;
  /** The sync service, as this host: `await ctx.sync.barrier("ready")`. */
  readonly sync: SyncClient;
  readonly signal: AbortSignal;
}

export type CallFunction = (ctx: CallContext) => Promise<Value | void> | Value | void;

export interface JobDefinition {
  /** The job's name in reports; for a service, the service's name (`HOST://NAME`). */
  readonly name?: string;
  /** A shell script, run by /bin/sh on the host with `set -eu`. */
  readonly run?: string;
  /** Files or directories: `{from: data/, to: input/}`; either side may be `HOST://path`, `orchestrator://path`. */
  readonly copy?: { readonly from: string; readonly to: string };
  /** A long-running command, stopped (its process group killed) at the end of the scenario. */
  readonly service?: string;
  /** Where the service answers, e.g. `http://{{ host.addr }}:8000`: what `HOST://NAME` becomes. */
  readonly endpoint?: string;
  /** A script run on the host until it succeeds before the service counts as started. */
  readonly ready?: string;
  readonly ready_timeout?: string | number;
  /** The path of the service's Prometheus metrics under its endpoint, e.g. `/metrics`. */
  readonly metrics?: string;
  /** TypeScript API only: a function run on the orchestrator, once per host and item. */
  readonly call?: CallFunction;
  readonly with_items?: ItemsDefinition;
  readonly run_items?: Mode;
  readonly vars_updates?: Readonly<Record<string, VarUpdateDefinition>>;
  /** A failure of this job is reported but does not stop the scenario. */
  readonly ignore_failure?: boolean;
  readonly env?: Readonly<Record<string, string | number | boolean>>;
  /** Kill a step of this job after this long (`30s`, `5m`). */
  readonly timeout?: string | number;
  /** A plugin's job kind and its arguments: `"tezos.start_node": { path_node: "self://./octez-node" }`. */
  readonly [kind: `${string}.${string}`]: unknown;
}

export interface StageDefinition {
  readonly name: string;
  /** Regular expressions over host names (the whole name must match); all hosts by default. */
  readonly with_hosts?: string | readonly string[];
  /** Hosts run the stage at once (default) or one after the other. */
  readonly run_hosts?: Mode;
  /** A host runs the stage's jobs one after the other (default) or at once. */
  readonly run_jobs?: Mode;
  /** Wait for the user to press Enter before the stage starts. */
  readonly ask_confirmation?: boolean;
  readonly jobs: readonly JobDefinition[];
}

export interface PrometheusDefinition {
  readonly scrape_interval?: string;
  /**
   * Where the Prometheus server runs: `orchestrator` (default), one of the
   * scenario's hosts, or, with `backend:`, a host of its own by that name
   * that no stage picks.
   */
  readonly on?: string;
  /** With `on: NAME`: the backend of a host of its own for Prometheus. */
  readonly backend?: string;
  /** With `backend:`: a system of that backend (its first by default). */
  readonly system?: string;
  /** The prometheus binary where it runs: a path, or a name in its PATH (default prometheus). */
  readonly binary?: string;
}

export interface ScenarioDefinition {
  readonly name?: string;
  readonly summary?: string;
  /** Backends as in troupe.yaml (`lab: {systems: [...]}`, `ssh: {...}`, adhoc). */
  readonly backends?: Readonly<Record<string, unknown>>;
  readonly hosts: readonly (string | HostsDefinition)[];
  readonly vars?: Readonly<Record<string, Value>>;
  readonly prometheus?: PrometheusDefinition;
  readonly stages: readonly StageDefinition[];
}

// ---------------------------------------------------------------- plan

/** Where a template's text starts in its file, to point at the spot an error names. */
export interface TextPlace {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** A `|` / `>` block (text starts on the next line, at `indent`), a quoted or a plain scalar. */
  readonly style: "block" | "quoted" | "plain";
  /** Block scalars: the column (1-based) where each line's text starts. */
  readonly indent?: number;
}

/** A piece of text that may hold `{{ ... }}`, and where it was written. */
export interface Template {
  readonly text: string;
  /** Its place in the scenario, e.g. ["stages", 1, "jobs", 0, "run"]. */
  readonly path: YamlPath;
  readonly at?: TextPlace;
}

export interface PlannedHost {
  /** The scenario's name for it (`node-3`). */
  readonly name: string;
  readonly backend: Backend;
  readonly system: System;
  readonly groups: readonly string[];
  /** 1-based count among the hosts of the same backend and system (ssh: which machine of the list). */
  readonly index: number;
  readonly pos?: SourcePos;
  /** The group's `image:`: the Docker image the host runs the experiment in (also in its system's `experiment-image` key). */
  readonly image?: { readonly name: string; readonly pos?: SourcePos };
}

export type ItemsPlan =
  | { readonly kind: "list"; readonly items: readonly ItemPlan[] }
  | { readonly kind: "product"; readonly lists: readonly (readonly ItemPlan[])[] };

/** One item definition: text is rendered, then read as a range, number, boolean or text; anything else is kept. */
export type ItemPlan = { readonly kind: "template"; readonly template: Template } | { readonly kind: "value"; readonly value: Value };

export interface VarUpdatePlan {
  readonly key: Template;
  /** Undefined: remove the variable. */
  readonly value?: Template;
  readonly as: "string" | "int" | "bool" | "json";
}

export type JobBody =
  | { readonly kind: "run"; readonly script: Template }
  | { readonly kind: "copy"; readonly from: Template; readonly to: Template }
  | {
      readonly kind: "service";
      readonly command: Template;
      readonly endpoint?: Template;
      readonly ready?: Template;
      readonly readyTimeoutMs: number;
      readonly metrics?: Template;
    }
  | { readonly kind: "call"; readonly fn: CallFunction }
  /** A plugin's job kind (`tezos.start_node`), with its arguments as written (texts are templates). */
  | { readonly kind: "plugin"; readonly name: string; readonly args: ArgNode };

/** A plugin job's arguments: the value as written, each text a template. */
export type ArgNode =
  | { readonly kind: "text"; readonly template: Template }
  | { readonly kind: "value"; readonly value: Value }
  | { readonly kind: "list"; readonly items: readonly ArgNode[] }
  | { readonly kind: "map"; readonly entries: readonly (readonly [string, ArgNode])[] };

export interface PlannedJob {
  /** 0-based position in its stage. */
  readonly index: number;
  /** A template; for jobs without a name, a name made from the body (`run: echo hi` -> `echo hi`). */
  readonly name: Template;
  /** The name was made from the body (shortened once rendered). */
  readonly autoName: boolean;
  readonly body: JobBody;
  readonly items?: ItemsPlan;
  readonly runItems: Mode;
  readonly varsUpdates: readonly VarUpdatePlan[];
  readonly ignoreFailure: boolean;
  readonly env: readonly (readonly [string, Template])[];
  /** Kill a step after this long; undefined for no limit. */
  readonly timeoutMs?: number;
  /** Where its output goes (`log:`, from the job, its stage or the scenario). */
  readonly log: LogPolicy;
  readonly path: YamlPath;
  readonly pos?: SourcePos;
}

/**
 * `stream`: every line reaches troupe as it comes; `keep`: the output goes to
 * a file on the host, fetched into the run's folder when the step or service
 * ends; `summary`: as keep, and the last `lines` lines are shown.
 */
export interface LogPolicy {
  readonly mode: "stream" | "keep" | "summary";
  readonly lines: number;
}

export interface PlannedStage {
  /** 0-based. */
  readonly index: number;
  readonly name: string;
  readonly withHosts: readonly Template[];
  readonly runHosts: Mode;
  readonly runJobs: Mode;
  /** `whole`: a host's whole name must match (troupe); `partial`: a match anywhere in it (Octogram). */
  readonly match: "whole" | "partial";
  readonly askConfirmation: boolean;
  readonly jobs: readonly PlannedJob[];
  readonly path: YamlPath;
  readonly pos?: SourcePos;
}

export interface PrometheusPlan {
  readonly scrapeInterval?: string;
  /** The host it runs on (one of the plan's hosts, or `ownHost`); the orchestrator when absent. */
  readonly host?: string;
  /** A host allocated for Prometheus alone (`backend:`, Octogram's prometheus_agent): no stage picks it. */
  readonly ownHost?: PlannedHost;
  readonly binary?: string;
}

export interface ScenarioPlan {
  readonly name: string;
  /** A troupe scenario, or an Octogram recipe read as it is. */
  readonly dialect: "troupe" | "octogram";
  /** The scenario file, as shown in messages; undefined for a scenario defined in code. */
  readonly file?: string;
  /** Relative orchestrator paths (copy jobs, `orchestrator://`) start here: the file's directory. */
  readonly baseDir: string;
  readonly hosts: readonly PlannedHost[];
  readonly vars: Readonly<Record<string, Value>>;
  readonly stages: readonly PlannedStage[];
  readonly prometheus?: PrometheusPlan;
}
