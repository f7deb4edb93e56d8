// A counting semaphore. The SSH transport shares one between all hosts to
// bound how many connections are being set up at once (key exchange and
// authentication cost CPU on both ends; 200 at once would time out), apart
// from whatever bounds running sessions.

import { TroupeError } from "../../util/errors.js";

export class Semaphore {
  private max: number;
  private inUse = 0;
  private readonly queue: { grant: () => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  constructor(max: number) {
    this.max = checkMax(max);
  }

  /** How many holders may be inside at once. */
  get limit(): number {
    return this.max;
  }

  /** Holders inside now. */
  get active(): number {
    return this.inUse;
  }

  /** Callers waiting for a slot. */
  get pending(): number {
    return this.queue.length;
  }

  /** Change the limit; waiters are let in at once if it grew. */
  resize(max: number): void {
    this.max = checkMax(max);
    this.drain();
  }

  /**
   * Wait for a slot; resolves to its release function (idempotent). Rejects
   * with E_INTERRUPTED if `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(interrupted());
    if (this.inUse < this.max && this.queue.length === 0) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<() => void>((resolve, reject) => {
      const entry: { grant: () => void; signal?: AbortSignal; onAbort?: () => void } = {
        grant: () => resolve(this.releaser()),
      };
      if (signal) {
        entry.signal = signal;
        entry.onAbort = () => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          reject(interrupted());
        };
        signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.queue.push(entry);
    });
  }

  /** Run `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inUse--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.inUse < this.max && this.queue.length > 0) {
      const next = this.queue.shift()!;
      if (next.signal && next.onAbort) next.signal.removeEventListener("abort", next.onAbort);
      this.inUse++;
      next.grant();
    }
  }
}

function checkMax(max: number): number {
  if (!Number.isInteger(max) || max < 1) throw new TroupeError("E_USAGE", `a limit must be a whole number >= 1, not ${max}`);
  return max;
}

function interrupted(): TroupeError {
  return new TroupeError("E_INTERRUPTED", "interrupted while waiting for a connection slot");
}

/**
 * Default number of SSH connections being set up at once, over every host:
 * pdsh's and parallel-ssh's default fan-out. Fewer leave a 2-core machine
 * waiting on round trips (100 lab hosts: 16 took 1.47 s, 32 took 1.25 s).
 */
export const DEFAULT_HANDSHAKES = 32;

function initialHandshakes(): number {
  const fromEnv = Number(process.env["TROUPE_SSH_HANDSHAKES"]);
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : DEFAULT_HANDSHAKES;
}

/** The limiter every SshTransport uses for connection setup unless given its own. */
export const handshakeLimiter = new Semaphore(initialHandshakes());

/** Set how many SSH handshakes may run at once in this process. */
export function setHandshakeConcurrency(n: number): void {
  handshakeLimiter.resize(n);
}
