// Durations as `troupe-ctl --timeout` takes them: `30s`, `1m`, `1m30s`,
// `500ms`, `2h`, or a bare number of seconds (`45`, `0.5`).

import { SyncError } from "./errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or a usage SyncError naming the bad text. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return finite(Math.round(Number(t) * 1000), text);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < t.length) {
    part.lastIndex = at;
    const m = part.exec(t);
    if (!m) break;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    at = part.lastIndex;
  }
  if (t.length === 0 || at !== t.length) {
    throw new SyncError("usage", `bad duration "${text}" (want e.g. 30s, 1m, 1m30s, 500ms, 2h)`);
  }
  return finite(Math.round(total), text);
}

function finite(ms: number, text: string): number {
  if (Number.isFinite(ms)) return ms;
  throw new SyncError("usage", `bad duration "${text}": too large (want e.g. 30s, 1m, 2h, 700h)`);
}

/** `1m30s`, `250ms`: for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 1000 !== 0) return `${(ms / 1000).toFixed(1)}s`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}
