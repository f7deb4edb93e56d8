// Durations as Go's time.ParseDuration reads them (Spread's warn-timeout,
// kill-timeout, halt-timeout), in milliseconds, plus troupe's `-1`: no timeout.

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3, // micro sign
  "\u03bcs": 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;

export const DURATION_HELP =
  "write a number with a unit (ns, us, ms, s, m, h) such as 30s, 10m, 1.5h or 1h30m; 0 for the default, -1 for no timeout";

/** Go's longest duration, 2^63-1 ns (about 2562047 hours), in milliseconds. */
export const MAX_DURATION_MS = 9_223_372_036_854.775;

export const DURATION_TOO_LONG = "the longest duration is 2562047h (Go's, as in Spread); use -1 for no timeout";

/** Milliseconds; -1 means no timeout. Undefined when `input` is not a duration, or is longer than Go's longest. */
export function parseDuration(input: string | number): number | undefined {
  const ms = parseDurationUnbounded(input);
  return ms !== undefined && ms > MAX_DURATION_MS ? undefined : ms;
}

/** Whether `input` is written as a duration but is longer than Go's longest (or too large to be a number at all). */
export function isDurationTooLong(input: string | number): boolean {
  const ms = parseDurationUnbounded(input);
  return ms !== undefined && ms > MAX_DURATION_MS;
}

function parseDurationUnbounded(input: string | number): number | undefined {
  if (typeof input === "number") return input === 0 || input === -1 ? input : undefined;
  let s = input.trim();
  if (s === "-1") return -1;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  while (s !== "") {
    const m = PART.exec(s);
    if (!m) return undefined;
    const whole = m[1] ?? "";
    const frac = m[2];
    if (whole === "" && (frac === undefined || frac === "")) return undefined;
    const n = Number(`${whole === "" ? "0" : whole}.${frac ?? ""}0`);
    total += n * (UNIT_MS[m[3] ?? ""] ?? NaN);
    s = s.slice(m[0].length);
  }
  // An overflow to Infinity is too long, like any other past the maximum.
  if (Number.isNaN(total)) return undefined;
  // Spread's "no timeout" is the Go duration -1 (one nanosecond below zero,
  // written -1ns); troupe's is -1. Any other negative timeout would fire at
  // once (Spread) or mean nothing, so it is refused.
  if (sign < 0 && Math.round(total * 1e6) === 1) return -1;
  if (sign < 0 && total !== 0) return undefined;
  return total;
}
