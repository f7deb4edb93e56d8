// Timers for durations users give (kill-timeout: 720h): Node's own overflow
// past 2^31-1 ms and fire at once, so long ones are chained.

/** The longest delay Node's timers take as given. */
const MAX_DELAY = 2 ** 31 - 1;

export interface Timer {
  clear(): void;
}

/** Call `fn` once after `ms`, however long that is. */
export function startTimeout(ms: number, fn: () => void): Timer {
  let handle: NodeJS.Timeout | undefined;
  let cleared = false;
  const due = Date.now() + ms;
  const arm = (): void => {
    const left = due - Date.now();
    if (left > MAX_DELAY) handle = setTimeout(arm, MAX_DELAY);
    else
      handle = setTimeout(
        () => {
          if (!cleared) fn();
        },
        Math.max(0, left),
      );
  };
  arm();
  return {
    clear(): void {
      cleared = true;
      if (handle) clearTimeout(handle);
    },
  };
}

/** Call `fn` every `ms`, however long that is. */
export function startInterval(ms: number, fn: () => void): Timer {
  if (ms <= MAX_DELAY) {
    const handle = setInterval(fn, ms);
    return { clear: () => clearInterval(handle) };
  }
  let current: Timer | undefined;
  let cleared = false;
  const next = (): void => {
    current = startTimeout(ms, () => {
      if (cleared) return;
      fn();
      next();
    });
  };
  next();
  return {
    clear(): void {
      cleared = true;
      current?.clear();
    },
  };
}
