// Job plugins: job kinds that are not troupe's own (`tezos.start_node`,
// `builtins.tar`, ...), written in TypeScript against this interface. A
// plugin names its job kinds; each kind has an arguments schema (zod), so
// that a wrong argument is reported before any host is allocated, at its
// file:line:col, and a `run` function that does the work on a host through
// `JobContext`: scripts through troupe's one script runner, files and
// endpoints through the scenario's URIs, long-running processes as the
// scenario's services. What `run` returns is the job's result: `res` in
// `vars_updates`, as Octogram's jobs return theirs.
//
// Every text in a job's arguments is a template, rendered for each step
// before the schema reads the arguments.

import type * as z from "zod";
import type { Value } from "../scenario/types.js";

export interface JobHost {
  /** The scenario's name for the host (`node-3`, an Octogram agent's name). */
  readonly name: string;
  /** Its address, as other hosts reach it. */
  readonly addr: string;
  /** Its scenario directory: scripts start there; relative paths are in it. */
  readonly dir: string;
}

export interface ServiceRequest {
  /** The service's name: `self://NAME` and `HOST://NAME` find its endpoint. */
  readonly name: string;
  /** A shell command, run in the scenario directory until the end of the scenario (keep it in the foreground: `exec ...`). */
  readonly command: string;
  /** Where it answers (`http://ADDR:PORT`). */
  readonly endpoint?: string;
  /** Its Prometheus metrics, a full URL. */
  readonly metrics?: string;
  /** A script that exits 0 once it is ready; without one, the endpoint's port listening. */
  readonly ready?: string;
  readonly readyTimeoutMs?: number;
}

export interface JobContext {
  readonly host: JobHost;
  /** The job's name, for messages. */
  readonly job: string;
  readonly signal: AbortSignal;
  /**
   * Run a POSIX sh script on the host, in its scenario directory, through
   * troupe's script runner (`set -eu`; its output is reported and logged
   * like any step's). Resolves to its stdout and stderr; rejects when it
   * fails, with the end of its output.
   */
  sh(script: string): Promise<{ readonly stdout: string; readonly stderr: string }>;
  /**
   * A file the job reads: `self://path` (on this host), `HOST://path` (on
   * another host: copied here first, from the directory that host serves
   * with builtins.start_http_server, else its scenario directory), an
   * `http://` or `https://` URL (downloaded by the host), or a plain path on
   * this host. Resolves to its path on this host.
   */
  file(uri: string, options?: { readonly keepName?: boolean }): Promise<string>;
  /** A path on this host that the job writes: `self://path` or a plain path (relative to the scenario directory). */
  localPath(uri: string): string;
  /** The endpoint of a service (`self://node`, `HOST://node`); a URL stays as it is. */
  endpoint(uri: string): string;
  /** Start a service on this host; resolves once it is ready. */
  service(request: ServiceRequest): Promise<void>;
  /** What this plugin keeps about this host between steps (a node's data directory, ...). */
  readonly state: Map<string, unknown>;
  /** Serve a directory of this host to the others' `HOST://path` (builtins.start_http_server). */
  serve(dir: string): void;
  /** Say something in the scenario's output. */
  info(message: string): void;
}

export interface JobKind<A = unknown> {
  /** One line: what the job does. */
  readonly summary: string;
  /** Its arguments (what is written under the job's kind). Texts may be numbers in the file. */
  readonly args: z.ZodType<A>;
  run(ctx: JobContext, args: A): Promise<Readonly<Record<string, Value>> | void>;
}

export interface JobPlugin {
  /** The plugin's name: the part of its job kinds before the dot (`tezos`). */
  readonly name: string;
  readonly summary: string;
  /** Job kinds by their full name (`tezos.start_node`). */
  readonly jobs: Readonly<Record<string, JobKind<never>>>;
}

/** A job kind with its arguments' type checked where it is written. */
export function jobKind<A>(kind: JobKind<A>): JobKind<never> {
  return kind as unknown as JobKind<never>;
}
