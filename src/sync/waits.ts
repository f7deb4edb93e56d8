// The one way the sync service blocks: a waiter registered under a topic
// (`barrier:ready`, `kv:db/url`, ...) with a check that is re-run whenever
// that topic changes. Every waiter can time out, be aborted by its caller,
// and fails at once when the job is poisoned or the session is closed.
// Each waiter names its caller, so that the deadlock watch can tell what
// every host waits for; every change (a wait starts or ends, a topic is
// touched) is reported to `onChange`, the watch's notion of progress.

import { setLongTimeout, type LongTimer } from "../util/long-timer.js";
import { formatDuration } from "./duration.js";
import type { PendingWait } from "./deadlock.js";
import { describePoison, SyncError, type Poison } from "./errors.js";

export interface WaitOptions {
  /** Give up after this long; `0` means "only if already true"; absent (or Infinity) means no limit. */
  readonly timeoutMs?: number;
  /** Aborting withdraws the wait (the caller went away). */
  readonly signal?: AbortSignal;
  /** Who waits: a host of the job (troupe-ctl's relay) or the orchestrator; unnamed waits block nobody in particular. */
  readonly caller?: string;
}

export interface WaitSpec<T> {
  readonly topic: string;
  /** For messages: `barrier ready`, `kv get db/url`. */
  readonly label: string;
  /** For the deadlock message: `at barrier "ready"`, `for kv key "port"`; the label by default. */
  readonly what?: string;
  /** The result once the wait is over, `undefined` while it is not. May claim state (a lock). */
  readonly check: () => T | undefined;
  /** Appended to a timeout message: who is missing. */
  readonly describe?: () => string;
  /** The wait ended without a result (timeout, abort, poison, close): undo its traces. */
  readonly withdraw?: () => void;
}

interface Pending {
  readonly spec: WaitSpec<unknown>;
  readonly caller: string | undefined;
  readonly timeoutMs: number | undefined;
  settle(result: { value: unknown } | { error: Error }): void;
}

export class Waits {
  private readonly byTopic = new Map<string, Set<Pending>>();
  private poison: Poison | undefined;
  private closed = false;

  /** Told of every change: a wait started or ended, a topic was notified. */
  constructor(private readonly onChange: () => void = () => {}) {}

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
      const limit = options.timeoutMs === Infinity ? undefined : options.timeoutMs;
      const pending: Pending = {
        spec: spec,
        caller: options.caller,
        timeoutMs: limit,
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
          this.onChange();
        },
      };
      let set = this.byTopic.get(spec.topic);
      if (!set) this.byTopic.set(spec.topic, (set = new Set()));
      set.add(pending);
      // A long timer: `--timeout 700h` is past what setTimeout takes.
      if (limit !== undefined) timer = setLongTimeout(() => pending.settle({ error: timedOut(spec, limit) }), limit);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.onChange();
    });
  }

  /** Re-run the checks of every waiter of `topic`, in the order they started waiting. */
  notify(topic: string): void {
    this.onChange();
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

  /** The pending waits of each named caller, by topic (for the deadlock watch). */
  byCaller(): Map<string, PendingWait[]> {
    const out = new Map<string, PendingWait[]>();
    for (const set of this.byTopic.values()) {
      for (const p of set) {
        if (p.caller === undefined) continue;
        let list = out.get(p.caller);
        if (!list) out.set(p.caller, (list = []));
        const detail = p.spec.describe?.() ?? "";
        list.push({ what: p.spec.what ?? p.spec.label, detail, ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}) });
      }
    }
    return out;
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
