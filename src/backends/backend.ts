// Where machines come from. One small interface per backend type; the engine
// never knows more than this about a backend.

import type { Backend, System } from "../model/project.js";
import type { EventStream } from "../report/events.js";
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
}

export interface BackendDriver {
  /** The backend type, e.g. `local`, `lab`, `ssh`, `adhoc`. */
  readonly type: string;
  /** Bring up one host of `system`; `index` counts hosts of that system from 1. */
  allocate(system: System, index: number): Promise<Host>;
  /** Release a host; must be safe to call twice and after a failed allocate. */
  discard(host: Host): Promise<void>;
  /**
   * How many workers `system` gets, when the backend knows better than the
   * system's `workers` (an ssh system with a host list: one worker per listed
   * host). Absent, or undefined: use `system.workers`.
   */
  workersFor?(system: System): number | undefined;
  /** Reboot a host (REBOOT in a script); absent where the backend cannot. */
  reboot?(host: Host): Promise<void>;
  /** Release everything this driver may have left behind; for crashes. */
  close?(): Promise<void>;
}

export type BackendFactory = (backend: Backend, ctx: BackendContext) => BackendDriver;
