// Where machines come from. One small interface per backend type: a core
// (allocate, discard) that every backend has, and optional capabilities
// (reuse, reboot, pushing the project its own way, ...) that some have. The
// host layer (hosts/pool.ts) is the only caller; orchestration code never
// asks which type a backend is.

import type { Backend, System } from "../model/project.js";
import type { EventStream } from "../report/events.js";
import type { Bundle } from "../transfer/bundle.js";
import type { Transport } from "../transport/transport.js";

export interface Host {
  /** Unique in the run, e.g. `local-1`, `lab-3`, `node01.example.com`. */
  readonly name: string;
  /** How other hosts reach it (an IP address or a DNS name). */
  readonly address: string;
  readonly backend: string;
  readonly system: string;
  readonly transport: Transport;
  /** The project's location on this host (Spread's `path`, or the local worker's copy). */
  readonly projectPath: string;
  /** Backend-specific data to discard or reuse the host. */
  readonly data?: Readonly<Record<string, unknown>>;
  /**
   * Set on a host an earlier run kept (-reuse) instead of a new one. With
   * `project`, its copy of the project is used as it is and nothing is sent.
   */
  readonly reused?: { readonly project: boolean };
}

/**
 * A host as a reuse file records it (`.troupe-reuse.yaml`, and Spread's
 * `.spread-reuse.yaml`, whose entries have the same fields but no `name`).
 */
export interface RecordedHost {
  readonly backend: string;
  readonly system: string;
  /** The host's name in troupe's runs. */
  readonly name: string;
  readonly address: string;
  /** Spread's `username` and `password` fields, when the file has them. */
  readonly username?: string;
  readonly password?: string;
  /** The backend type that made it (a `--backend-as` mapping may change before it is discarded); absent in Spread's files. */
  readonly type?: string;
  /** Host.data when the host was recorded (Spread's `data`). */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The cloud cost guards given on the command line (`--max-hosts`, `--max-hours`). */
export interface CloudGuards {
  readonly maxHosts?: number;
  readonly maxHours?: number;
}

export interface BackendContext {
  /** The run's results directory (`.troupe/runs/<id>`). */
  readonly runDir: string;
  /** The project directory on the orchestrator. */
  readonly projectDir: string;
  /** Spread's `path`: where the project goes on hosts that are whole machines. */
  readonly remotePath: string;
  readonly events: EventStream;
  readonly signal?: AbortSignal;
  /** Hosts are to outlive the run (-reuse): keep what they hold on disk. */
  readonly keepHosts?: boolean;
  /**
   * The run's id (the last part of runDir), for labelling what the backend
   * makes (gc/owner.ts); absent for hosts that no run owns (`troupe exec`).
   */
  readonly runId?: string;
  /** Cost guards from the command line (`--max-hosts`, `--max-hours`) for cloud backends; the lower of these and the project's wins. */
  readonly cloudGuards?: CloudGuards;
  /** Spread's -pass: the session's password, for backends that set root's on what they make (lxd); random when absent. */
  readonly password?: string;
}

export interface AllocateOptions {
  /**
   * The name the caller would like the host to have (a scenario's `node-3`).
   * Backends that name their hosts themselves use it when it is free; others
   * ignore it.
   */
  readonly name?: string;
  /**
   * Aborted when the run stops (the first Ctrl-C, SIGTERM or SIGHUP): a
   * backend that waits or retries while allocating gives up then. A script or
   * API call already under way may finish, so that what it made is known and
   * can be discarded; the context's signal (the second interrupt) kills it.
   */
  readonly signal?: AbortSignal;
}

export interface BackendDriver {
  /** The backend type, e.g. `local`, `lab`, `ssh`, `adhoc`. */
  readonly type: string;
  /** Bring up one host of `system`; `index` counts hosts of that system from 1. */
  allocate(system: System, index: number, options?: AllocateOptions): Promise<Host>;
  /** Release a host; must be safe to call twice and after a failed allocate. */
  discard(host: Host): Promise<void>;
  /** Release everything this driver may have left behind; for crashes. */
  close?(): Promise<void>;

  // Capabilities: present where the backend can.

  /**
   * Make sure the backend can work at all before any job runs: its engine is
   * up, its socket may be written, its images exist. Throws a TroupeError
   * (E_BACKEND, exit 3) whose message says what to do. Called once per run,
   * with the backend's systems the run uses when they are known (a backend
   * checks the images of those only).
   */
  check?(systems?: readonly System[]): Promise<void>;

  /**
   * How many of its hosts the pool may be allocating at once, when the
   * backend bounds its own API calls and batches them (cloud fleets: a host
   * is mostly waiting for a machine to boot). Absent: the pool's bound.
   */
  readonly allocateConcurrency?: number;

  /**
   * Its hosts leave nothing behind when troupe dies (the local backend's are
   * folders of the run): a killed run's journal need not list them.
   */
  readonly leavesNothing?: boolean;

  /**
   * Put the project bundle at host.projectPath its own way (the local
   * backend unpacks on this machine). Absent: the bundle is streamed through
   * the host's transport.
   */
  pushProject?(host: Host, bundle: Bundle): Promise<void>;
  /**
   * How many workers `system` gets, when the backend knows better than the
   * system's `workers` (an ssh system with a host list: one worker per listed
   * host). Absent, or undefined: use `system.workers`.
   */
  workersFor?(system: System): number | undefined;
  /** Reboot a host (REBOOT in a script); absent where the backend cannot. */
  reboot?(host: Host): Promise<void>;

  // Reuse (-reuse, -reuse-pid, -discard; see backends/reuse/). A backend
  // whose driver has `reuse` and `release` can keep hosts between runs.

  /**
   * Take back a host an earlier run recorded. Undefined when it is gone (the
   * record is then dropped); throws when it exists but cannot be had now.
   * For `discard`, the host is only going to be discarded: no need to connect.
   */
  reuse?(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined>;
  /** Let go of a host without destroying it: it stays up for a later run. */
  release?(host: Host): Promise<void>;
  /**
   * -reuse: `host` is to outlive this run and is recorded in `reuseFile`;
   * make sure nothing (an exit hook, a garbage collector) removes it.
   */
  keep?(host: Host, reuseFile: string): Promise<void>;
  /** The host is kept, not destroyed: discard() only lets go of it (the engine says "Keeping"). */
  keeps?(host: Host): boolean;
}

export type BackendFactory = (backend: Backend, ctx: BackendContext) => BackendDriver;
