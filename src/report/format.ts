// Small text helpers shared by the writers: Spread's time prefix, its way of
// showing a script's output after an error, its tail of a long output, and
// human durations. Pure functions.

import type { Phase } from "./events.js";

export type TimeZone = "local" | "utc";

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `2016-06-02 12:34:56`, Spread's log prefix (without the trailing space). */
export function formatTimestamp(ms: number, tz: TimeZone = "local"): string {
  const d = new Date(ms);
  if (tz === "utc") {
    return (
      `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    );
  }
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** `1.5s`, `2m05s`, `1h02m`: for status lines and summaries. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  return `${h}h${pad(m % 60)}m`;
}

/** Seconds with millisecond precision, as JUnit wants them: `1.234`. */
export function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The lower-case verb Spread prints for a phase: `Error executing ...`. */
export function verbFor(phase: Phase): string {
  switch (phase) {
    case "prepare":
      return "preparing";
    case "execute":
      return "executing";
    case "restore":
      return "restoring";
    case "debug":
      return "debugging";
    case "allocate":
      return "allocating";
    case "discard":
      return "discarding";
    case "artifacts":
      return "fetching artifacts of";
  }
}

export function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

/** Spread's kill-timeout marker, appended to the output of a killed script. */
export const KILL_TIMEOUT_MARKER = "<kill-timeout reached>";

/**
 * The output a failure report shows: the script's output plus a marker saying
 * why it was cut short, as Spread appends `<kill-timeout reached>`.
 */
export function failureOutput(output: string, killedBy?: "timeout" | "interrupt" | "signal"): string {
  const marker =
    killedBy === "timeout"
      ? KILL_TIMEOUT_MARKER
      : killedBy === "interrupt"
        ? "<interrupted>"
        : killedBy === "signal"
          ? "<killed by a signal>"
          : "";
  const trimmed = output.trim();
  if (!marker || trimmed.endsWith(marker)) return trimmed;
  return trimmed ? `${trimmed}\n${marker}` : marker;
}

/**
 * Spread's `outputErr`: a multi-line output becomes a `-----` fenced block on
 * its own lines, a single line stays inline, and no output falls back to the
 * error text (`Process exited with status 1`).
 */
export function outputOrError(output: string, fallback: string): string {
  const trimmed = output.trim();
  if (!trimmed) return fallback;
  if (trimmed.includes("\n")) return `\n-----\n${trimmed}\n-----`;
  return trimmed;
}

/** The error text Spread shows when a failed script printed nothing. */
export function exitText(exitCode: number | null, killedBy?: string): string {
  if (exitCode !== null) return `Process exited with status ${exitCode}`;
  if (killedBy === "timeout") return KILL_TIMEOUT_MARKER;
  if (killedBy === "interrupt") return "interrupted";
  return "Process killed by a signal";
}

/**
 * Spread's `tail`: an output of more than 13 lines is cut to its last 10,
 * after a `(... N lines above ...)` line.
 */
export function tail(output: string, display = 10): string {
  const lines = output.split("\n");
  if (lines.length <= display + 3) return output;
  return `(... ${lines.length - display} lines above ...)\n${lines.slice(-display).join("\n")}`;
}

/** Cut a string to `width` display columns (ASCII-approximate), with an ellipsis. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return "";
  if (s.length <= width) return s;
  if (width === 1) return "…";
  return s.slice(0, width - 1) + "…";
}

/** Strip ANSI escape sequences (colors, cursor moves) from script output. */
export function stripAnsi(s: string): string {
  // CSI sequences, OSC sequences (terminated by BEL or ST), and lone two-byte escapes.
  return s.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g, "");
}
