// The one way the sync service blocks: a waiter registered under a topic
// (`barrier:ready`, `kv:db/url`, ...) with a check that is re-run whenever
// that topic changes. Every waiter can time out, be aborted by its caller,
// and fails at once when the job is poisoned or the session is closed.

import { setLongTimeout, type LongTimer } from "../util/long-timer.js";
import { formatDuration } from "./duration.js";
import { describePoison, SyncError, type Poison } from "./errors.js";

export interface WaitOptions {
  /** Give up after this long; `0` means "only if already true"; absent (or Infinity) means no limit. */
  readonly timeoutMs?: number;
  /** Aborting withdraws the wait (the caller went away). */
  readonly signal?: AbortSignal;
}

export interface WaitSpec<T> {
  readonly topic: string;
  /** For messages: `barrier ready`, `kv get db/url`. */
  readonly label: string;
  /** The result once the wait is over, `undefined` while it is not. May claim state (a lock). */
  readonly check: () => T | undefined;
  /** Appended to a timeout message: who is missing. */
  readonly describe?: () => string;
  /** The wait ended without a result (timeout, abort, poison, close): undo its traces. */
  readonly withdraw?: () => void;
}

interface Pending {
  readonly spec: WaitSpec<unknown>;
  settle(result: { value: unknown } | { error: Error }): void;
}

export class Waits {
  private readonly byTopic = new Map<string, Set<Pending>>();
  private poison: Poison | undefined;
  private closed = false;

  get poisoned(): Poison | undefined {
    return this.poison;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws when no new wait may start: the job is poisoned or closed. */
  assertOpen(label: string): void {
    if (this.poison) throw new SyncError("poisoned", `${label}: ${describePoison(this.poison)}`);
    if (this.closed) throw new SyncError("unavailable", `${label}: the job's sync session is closed`);
  }

  wait<T>(spec: WaitSpec<T>, options: WaitOptions = {}): Promise<T> {
    try {
      this.assertOpen(spec.label);
      if (options.signal?.aborted) throw cancelled(spec.label);
      const now = spec.check();
      if (now !== undefined) return Promise.resolve(now);
      if (Number.isNaN(options.timeoutMs)) throw new SyncError("usage", `${spec.label}: the timeout is not a number`);
      if (options.timeoutMs !== undefined && options.timeoutMs <= 0) throw timedOut(spec, options.timeoutMs);
    } catch (e) {
      spec.withdraw?.();
      return Promise.reject(e);
    }
    return new Promise<T>((resolve, reject) => {
      let timer: LongTimer | undefined;
      const onAbort = (): void => pending.settle({ error: cancelled(spec.label) });
      const pending: Pending = {
        spec: spec,
        settle: (result) => {
          const set = this.byTopic.get(spec.topic);
          if (!set?.delete(pending)) return; // already settled
          if (set.size === 0) this.byTopic.delete(spec.topic);
          timer?.clear();
          options.signal?.removeEventListener("abort", onAbort);
          if ("value" in result) resolve(result.value as T);
          else {
            spec.withdraw?.();
            reject(result.error);
          }
        },
      };
      let set = this.byTopic.get(spec.topic);
      if (!set) this.byTopic.set(spec.topic, (set = new Set()));
      set.add(pending);
      const limit = options.timeoutMs === Infinity ? undefined : options.timeoutMs;
      // A long timer: `--timeout 700h` is past what setTimeout takes.
      if (limit !== undefined) timer = setLongTimeout(() => pending.settle({ error: timedOut(spec, limit) }), limit);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Re-run the checks of every waiter of `topic`, in the order they started waiting. */
  notify(topic: string): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    for (const p of [...set]) {
      const value = p.spec.check();
      if (value !== undefined) p.settle({ value });
    }
  }

  /** How many waits are pending (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const s of this.byTopic.values()) n += s.size;
    return n;
  }

  /** Fail every pending and future wait. The first poison wins: it names the root cause. */
  poisonAll(poison: Poison): boolean {
    if (this.poison || this.closed) return false;
    this.poison = poison;
    this.failAll((label) => new SyncError("poisoned", `${label}: ${describePoison(poison)}`));
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll((label) => new SyncError("unavailable", `${label}: the job's sync session is closed`));
  }

  private failAll(error: (label: string) => SyncError): void {
    for (const set of [...this.byTopic.values()]) {
      for (const p of [...set]) p.settle({ error: error(p.spec.label) });
    }
  }
}

function cancelled(label: string): SyncError {
  return new SyncError("unavailable", `${label}: cancelled`);
}

function timedOut(spec: WaitSpec<unknown>, ms: number): SyncError {
  const more = spec.describe?.();
  return new SyncError("timeout", `${spec.label}: timed out after ${formatDuration(ms)}${more ? ` (${more})` : ""}`);
}
