// The one shape every script run ends in (execa's lesson: one result type,
// whatever happened), for hooks, scenario steps, adhoc scripts and exec.

import type { Marker } from "./markers.js";

export type Stream = "stdout" | "stderr";

/** One line a script printed (or a piece of a very long one: `partial`, more follows). */
export interface OutputLine {
  readonly stream: Stream;
  readonly text: string;
  readonly partial: boolean;
}

/**
 * Why a script did not succeed:
 * - `exit`: it exited with a status other than 0;
 * - `marker`: it called ERROR, FATAL or REBOOT (see `marker`);
 * - `timeout`: its kill-timeout was reached and it was killed;
 * - `interrupt`: troupe stopped it (Ctrl-C, another failure);
 * - `signal`: something else killed it;
 * - `transport`: it could not be run, or the connection was lost.
 */
export type FailureKind = "exit" | "marker" | "timeout" | "interrupt" | "signal" | "transport";

export interface ScriptFailure {
  readonly kind: FailureKind;
  /** One line for people: `exit status 1`, ERROR's message, `kill-timeout reached`... */
  readonly message: string;
  /** The transport's error, for kind `transport`. */
  readonly cause?: unknown;
}

export interface ScriptResult {
  readonly ok: boolean;
  /** The exit status; null when the script was killed or never ran. */
  readonly exitCode: number | null;
  /** The signal that killed it, when the transport knows. */
  readonly signal: NodeJS.Signals | null;
  readonly failure?: ScriptFailure;
  /** REBOOT, ERROR or FATAL, when the script called one. */
  readonly marker?: Marker;
  /** The end of what it printed, both streams in the order lines came, each line ending in `\n`. */
  readonly output: string;
  /** Whether `output` lost its beginning (the whole output is in the log, when there is one). */
  readonly truncated: boolean;
  /** Characters printed in all (both streams). */
  readonly printed: number;
  /** The end of each stream, when the caller asked to keep them (`capture.stdout` / `capture.stderr`). */
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** `killedBy` as events and results files say it. */
export function killedBy(result: Pick<ScriptResult, "failure">): "timeout" | "interrupt" | "signal" | undefined {
  const kind = result.failure?.kind;
  return kind === "timeout" || kind === "interrupt" || kind === "signal" ? kind : undefined;
}
