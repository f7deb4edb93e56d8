// Calling a provider's API again when it says "too many requests" or has a
// passing failure: exponential backoff with full jitter, bounded attempts,
// an interrupt ends the wait at once.

import { TroupeError } from "../../util/errors.js";

export interface BackoffOptions {
  /** Whether an error is worth another attempt. */
  readonly retry: (err: unknown) => boolean;
  /** Attempts in all (default 8). */
  readonly attempts?: number;
  /** The first pause's ceiling (default 500 ms); doubled each time, up to `maxMs` (default 20 s). */
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly signal?: AbortSignal;
  /** Told before each pause (for a debug message). */
  readonly onRetry?: (err: unknown, attempt: number, pauseMs: number) => void;
  /** Random in [0, 1) (tests give their own). */
  readonly random?: () => number;
}

/** A pause that an abort ends early (rejecting with E_INTERRUPTED). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TroupeError("E_INTERRUPTED", "interrupted"));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new TroupeError("E_INTERRUPTED", "interrupted"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The pause before attempt `attempt + 1` (attempt counts from 1): full jitter under a doubling ceiling. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export async function withBackoff<T>(fn: (attempt: number) => Promise<T>, o: BackoffOptions): Promise<T> {
  const attempts = o.attempts ?? 8;
  const random = o.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !o.retry(err)) throw err;
      const ms = backoffDelay(attempt, o.baseMs ?? 500, o.maxMs ?? 20_000, random);
      o.onRetry?.(err, attempt, ms);
      await pause(ms, o.signal);
    }
  }
}
