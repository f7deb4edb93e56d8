// One worker: a host of one backend:system and what Spread's worker loop
// remembers about it (which levels it is inside, which suites failed on it).

import type { Host } from "../backends/backend.js";
import type { Job } from "../model/job.js";
import type { Backend, Suite, System } from "../model/project.js";
import type { SchedWorker } from "./scheduler.js";

export type WorkerState = "allocating" | "idle" | "busy" | "finishing" | "done";

export class Worker implements SchedWorker {
  state: WorkerState = "allocating";
  host?: Host;
  insideProject = false;
  insideBackend = false;
  insideSuite?: Suite;
  last?: Job;
  /** Suites whose prepare failed here: their jobs are aborted on this worker. */
  readonly badSuites = new Set<string>();
  /** Why the machine is not to be used any more (a failed restore, FATAL, a lost connection). */
  broken?: string;
  /** -abend: a script failed; stop without restoring. */
  abend = false;

  constructor(
    readonly id: number,
    readonly backend: Backend,
    readonly system: System,
    /** 1-based among the workers of this backend:system. */
    readonly index: number,
  ) {}

  get key(): string {
    return `${this.backend.name}:${this.system.name}`;
  }

  get suite(): string | undefined {
    return this.insideSuite?.name;
  }

  /** Can still take jobs, now or later. */
  get alive(): boolean {
    return (this.state === "allocating" || this.state === "idle" || this.state === "busy") && !this.broken && !this.abend;
  }

  get label(): string {
    return this.host?.name ?? `${this.key}#${this.index}`;
  }
}
