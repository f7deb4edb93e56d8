// What the parts of one run share: the options, the event stream, the tally,
// the host pool, the interrupt state and the debugging modes. The engine
// (engine.ts) owns it; the worker lifecycle (workers.ts), the hook policy
// (hooks.ts) and the job (job.ts, job-body.ts) read and update it.

import type { HostPool } from "../hosts/pool.js";
import type { EventStream } from "../report/events.js";
import { Mutex } from "../util/limit.js";
import type { RunModes, RunOptions } from "./options.js";
import { Tally } from "./tally.js";
import type { Worker } from "./worker.js";

const NO_MODES: RunModes = { shell: false, shellBefore: false, shellAfter: false, debug: false, abend: false, restore: false };

export class RunContext {
  readonly events: EventStream;
  readonly tally: Tally;
  readonly modes: RunModes;
  readonly pool: HostPool;
  /** Kills prepare/execute/debug scripts: any interrupt. */
  readonly scriptAbort = new AbortController();
  /** Kills restore scripts too: the second interrupt. */
  readonly restoreAbort = new AbortController();
  /** The user's terminal, for one interactive shell at a time. */
  readonly terminal = new Mutex();
  /** The first interrupt: no new job starts, running scripts are killed, restores run. */
  stopping = false;
  /** The second interrupt: restores are skipped too; hosts are still discarded. */
  hard = false;
  /** Scripts failed so far: a failure's rank tells a gang's first failure. */
  failures = 0;
  /** Jobs started so far (for `(N/M)`). */
  started = 0;

  constructor(readonly options: RunOptions) {
    this.events = options.events;
    this.tally = new Tally(options.events);
    this.modes = { ...NO_MODES, ...options.modes };
    this.pool = options.hosts;
  }

  /** The host is not to be used any more (a failed restore, FATAL, a lost connection). */
  markBroken(w: Worker, reason: string): void {
    if (w.broken) return;
    w.broken = reason;
    this.events.emit({ type: "worker-broken", host: w.label, reason });
  }
}
