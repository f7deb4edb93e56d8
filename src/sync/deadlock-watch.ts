// When to look for a deadlock (deadlock.ts): once the job's sync state has
// not changed for `timeoutMs`. One timer, armed on the first change after it
// last fired; a change while it runs only moves the deadline (no timer is
// re-made per change), so that a barrier round of hundreds of hosts costs a
// clock read per call. Nothing changes the state but events (a wait starts
// or ends, a value is set, a message sent, a host's script starts or ends),
// so a state that is quiet for the whole delay is the state found at the end.

import { setLongTimeout, type LongTimer } from "../util/long-timer.js";
import { findDeadlock, type Deadlock, type HostState } from "./deadlock.js";

export interface DeadlockWatchOptions {
  /** Quiet time before a deadlock is declared; finite and > 0. */
  readonly timeoutMs: number;
  /** Each host's state as it is now. */
  readonly state: () => readonly HostState[];
  /** Called once, with the deadlock found; the watch stops. */
  readonly onDeadlock: (deadlock: Deadlock) => void;
}

export class DeadlockWatch {
  private lastChange = performance.now();
  private timer: LongTimer | undefined;
  private stopped = false;

  constructor(private readonly options: DeadlockWatchOptions) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new RangeError(`deadlock timeout: a finite number of milliseconds > 0, not ${options.timeoutMs}`);
    }
  }

  /** Something happened in the job's sync state: progress. */
  changed(): void {
    if (this.stopped) return;
    this.lastChange = performance.now();
    if (!this.timer) this.arm(this.options.timeoutMs);
  }

  /** The job is over or poisoned: no more looking. */
  stop(): void {
    this.stopped = true;
    this.timer?.clear();
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setLongTimeout(() => this.fire(), ms);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const quiet = performance.now() - this.lastChange;
    if (quiet < this.options.timeoutMs) {
      this.arm(this.options.timeoutMs - quiet);
      return;
    }
    const deadlock = findDeadlock(this.options.state());
    if (!deadlock) return; // armed again by the next change
    this.stop();
    this.options.onDeadlock(deadlock);
  }
}
