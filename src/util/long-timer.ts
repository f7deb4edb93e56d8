// Timers for delays users write. Node's setTimeout and setInterval (and
// AbortSignal.timeout, which uses them) take at most 2^31-1 ms, about 24.8
// days: a longer delay (`kill-timeout: 720h`, `--timeout 700h`) is clamped to
// 1 ms and fires at once, with only a warning on stderr. These chain timers
// of at most that length instead, so that any finite delay works.
//
// Use them wherever a delay may come from the user; fixed internal delays
// (a 2 s grace period) can keep using setTimeout.

/** The longest delay Node's timers take, in milliseconds (2^31-1, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timeout or interval. */
export interface LongTimer {
  /** Stop it; safe to call more than once, and from its own callback. */
  clear(): void;
  /** Keep the process alive while it is pending (the default, as setTimeout). */
  ref(): this;
  /** Let the process exit while it is pending. */
  unref(): this;
  hasRef(): boolean;
}

function checkDelay(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${what}: the delay must be a finite number of milliseconds >= 0, not ${ms}`);
  }
}

/**
 * A delay past MAX_TIMER_MS: timers of at most MAX_TIMER_MS in a row, each
 * aimed at a deadline on the monotonic clock, so that a late timer does not
 * push the end (or an interval's next period) back.
 */
class Chain implements LongTimer {
  private timer: NodeJS.Timeout | undefined;
  private deadline: number;
  private refed = true;

  constructor(
    private readonly callback: () => void,
    private readonly ms: number,
    private readonly repeat: boolean,
  ) {
    this.deadline = performance.now() + ms;
    this.arm();
  }

  private arm(): void {
    const left = this.deadline - performance.now();
    this.timer = setTimeout(() => this.step(), Math.max(0, Math.min(left, MAX_TIMER_MS)));
    if (!this.refed) this.timer.unref();
  }

  private step(): void {
    if (this.deadline - performance.now() >= 1) {
      this.arm();
      return;
    }
    this.timer = undefined;
    if (this.repeat) {
      // The next period is armed before the callback runs, so that the
      // callback may clear it.
      this.deadline += this.ms;
      this.arm();
    }
    this.callback();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  ref(): this {
    this.refed = true;
    this.timer?.ref();
    return this;
  }

  unref(): this {
    this.refed = false;
    this.timer?.unref();
    return this;
  }

  hasRef(): boolean {
    return this.refed && this.timer !== undefined;
  }
}

/** A delay Node's timers take as they are. */
class Native implements LongTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    callback: () => void,
    ms: number,
    private readonly repeat: boolean,
  ) {
    this.timer = repeat
      ? setInterval(callback, ms)
      : setTimeout(() => {
          this.timer = undefined;
          callback();
        }, ms);
  }

  clear(): void {
    if (this.repeat) clearInterval(this.timer);
    else clearTimeout(this.timer);
    this.timer = undefined;
  }

  ref(): this {
    this.timer?.ref();
    return this;
  }

  unref(): this {
    this.timer?.unref();
    return this;
  }

  hasRef(): boolean {
    return this.timer?.hasRef() ?? false;
  }
}

function timer(callback: () => void, ms: number, repeat: boolean): LongTimer {
  return ms > MAX_TIMER_MS ? new Chain(callback, ms, repeat) : new Native(callback, ms, repeat);
}

/** As setTimeout, for any finite delay >= 0. Throws a RangeError for NaN, infinite or negative delays. */
export function setLongTimeout(callback: () => void, ms: number): LongTimer {
  checkDelay(ms, "setLongTimeout");
  return timer(callback, ms, false);
}

/** As setInterval, for any finite period >= 0. Throws a RangeError for NaN, infinite or negative periods. */
export function setLongInterval(callback: () => void, ms: number): LongTimer {
  checkDelay(ms, "setLongInterval");
  return timer(callback, ms, true);
}

/** Clear a long timer that may not have been set. */
export function clearLongTimer(timer: LongTimer | undefined): void {
  timer?.clear();
}

/** An AbortSignal that aborts after a delay, and the way to cancel that. */
export interface TimeoutSignal {
  /** Aborts after the delay with a DOMException named "TimeoutError", as AbortSignal.timeout's does. */
  readonly signal: AbortSignal;
  /** Cancel the timeout (the signal then never aborts by itself); release it once the work is done. */
  clear(): void;
}

/**
 * AbortSignal.timeout for any finite delay (AbortSignal.timeout fires at once
 * past 2^31-1 ms and throws past 2^32-1). Its timer does not keep the process
 * alive, as AbortSignal.timeout's does not; call `clear()` when the work ends
 * so that a long delay does not hold on to the signal.
 */
export function longTimeoutSignal(ms: number): TimeoutSignal {
  checkDelay(ms, "longTimeoutSignal");
  const controller = new AbortController();
  const timer = setLongTimeout(() => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => timer.clear() };
}
