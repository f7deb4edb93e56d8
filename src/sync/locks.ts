// Named locks (batons): one holder at a time, granted first come first
// served. A grant is released by its handle, or when its owner dies
// (`releaseAllOf` when a host's relay goes away), or when the job ends.

import type { WaitOptions, Waits } from "./waits.js";

export interface LockGrant {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  /** Idempotent. */
  release(): void;
}

interface LockState {
  holder: LockGrant | undefined;
  /** Tokens of the waiters, in arrival order. */
  queue: number[];
}

export class Locks {
  private readonly locks = new Map<string, LockState>();
  private nextToken = 1;

  constructor(private readonly waits: Waits) {}

  acquire(caller: string, name: string, options: WaitOptions = {}): Promise<LockGrant> {
    const l = this.state(name);
    const token = this.nextToken++;
    const topic = `lock:${name}`;
    l.queue.push(token);
    return this.waits.wait(
      {
        topic,
        label: `lock ${name}`,
        what: `for lock "${name}"`,
        check: () => {
          if (l.holder || l.queue[0] !== token) return undefined;
          l.queue.shift();
          const grant: LockGrant = { name, owner: caller, token, release: () => this.release(name, token) };
          l.holder = grant;
          return grant;
        },
        describe: () => (l.holder ? `held by ${l.holder.owner}` : "queued"),
        withdraw: () => {
          const i = l.queue.indexOf(token);
          if (i >= 0) l.queue.splice(i, 1);
          // The head may have changed: let the next waiter in.
          queueMicrotask(() => this.waits.notify(topic));
        },
      },
      options,
    );
  }

  /** Who holds `name` now. */
  holder(name: string): string | undefined {
    return this.locks.get(name)?.holder?.owner;
  }

  /** Release every lock `owner` holds (its host died or its relay ended). */
  releaseAllOf(owner: string): void {
    for (const [name, l] of this.locks) if (l.holder?.owner === owner) this.release(name, l.holder.token);
  }

  private release(name: string, token: number): void {
    const l = this.locks.get(name);
    if (!l || l.holder?.token !== token) return;
    l.holder = undefined;
    this.waits.notify(`lock:${name}`);
  }

  private state(name: string): LockState {
    let l = this.locks.get(name);
    if (!l) this.locks.set(name, (l = { holder: undefined, queue: [] }));
    return l;
  }
}
