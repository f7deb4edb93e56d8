// The contract between the scheduler (exec/) and the sync service (sync/).
// When every host of a job is allocated, the engine opens a session for the
// job; the session gives each host the environment it needs to reach the sync
// service (troupe-ctl on PATH, ...), learns about host failures (poison), and
// is closed when the job ends.

import type { Host } from "../backends/backend.js";
import type { Job } from "../model/job.js";

/** One host of a job, in its role. Single-host jobs have one, with role "". */
export interface HostAssignment {
  readonly host: Host;
  readonly role: string;
  /** 1-based index within the role. */
  readonly index: number;
  /** The name other hosts use for it in this job: `server`, `client-1`, `client-2`. */
  readonly name: string;
}

export interface JobSession {
  /** Extra environment for scripts on this host (TROUPE_CTL_*, PATH additions, ports, ...). */
  env(assignment: HostAssignment): Readonly<Record<string, string>>;
  /** A host failed, timed out or lost its connection: poison every wait of the job. */
  hostFailed(assignment: HostAssignment, reason: string): void;
  /**
   * What poisoned the job first, if anything: the host (its name in the
   * job, or `orchestrator`) and why; `called`: it called `troupe-ctl fail
   * REASON`. The job's failure is that host's.
   */
  poisoned?(): { readonly host: string; readonly reason: string; readonly called?: boolean; readonly code?: string } | undefined;
  /** A script of the job started (true) or ended (false) on this host: a host running none can release nobody (deadlock). */
  hostRunning?(assignment: HostAssignment, running: boolean): void;
  /**
   * A script of this host starts (its first run, not a run again after
   * REBOOT): the waits earlier scripts passed are not its own to replay.
   */
  scriptStarting?(assignment: HostAssignment): void;
  /**
   * The host's script called REBOOT: around `reboot` (the backend's), its
   * control session is stopped, without poisoning the job (the other hosts
   * keep waiting for it), and started again once the host is back. A host
   * that does not come back (`reboot` throws) or whose control session does
   * not start again poisons the job, named, and this throws.
   */
  reboot?(assignment: HostAssignment, reboot: () => Promise<void>): Promise<void>;
  /** The job's key-value store as it stands, in the order keys were set. */
  kv?(): readonly (readonly [key: string, value: string])[];
  /** The job is over (passed or not): stop control sessions, drop state. */
  close(): Promise<void>;
}

export type JobSessionFactory = (job: Job, hosts: readonly HostAssignment[], signal: AbortSignal) => Promise<JobSession>;
