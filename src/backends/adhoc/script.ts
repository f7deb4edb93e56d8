// Running the adhoc backend's `allocate` and `discard` scripts on the
// orchestrator, the way Spread does (spread/adhoc.go, localScript in
// spread/client.go): `set -eu`, the helpers ADDRESS, ERROR and FATAL, the
// SPREAD_* variables, shell tracing, stdout and stderr combined, and the
// script in a subshell with its stdin from /dev/null, run by bash (handed to
// it on stdin by a line of sh, exec/prelude.ts). Unlike Spread, the script
// keeps the user's PATH.
//
// A script reports with lines `<KEY value>`: ADDRESS prints `<ADDRESS addr>`;
// ERROR and FATAL print `<ERROR msg>` / `<FATAL msg>` and exit 213. ERROR (or
// any other failure) is worth retrying; FATAL is not.

import { inBash } from "../../script/launcher.js";
import { MARKER_EXIT, markerLine } from "../../script/markers.js";
import { runScript } from "../../script/run-script.js";
import { shownTail } from "../../script/tail.js";
import { LocalTransport } from "../../transport/local.js";
import type { Transport } from "../../transport/transport.js";

export { MARKER_EXIT };

const PRELUDE = [
  // One stream, as Spread reads it: the marker must be the last line, after any trace.
  "exec 2>&1",
  "set -eu",
  `ADDRESS() { { set +xu; } 2>/dev/null; if [ $# -eq 0 ] || [ -z "$1" ]; then echo '<ADDRESS>'; else echo "<ADDRESS $1>"; fi; }`,
  `FATAL() { { set +xu; } 2>/dev/null; if [ $# -eq 0 ] || [ -z "$1" ]; then echo '<FATAL>'; else echo "<FATAL $*>"; fi; exit ${MARKER_EXIT}; }`,
  `ERROR() { { set +xu; } 2>/dev/null; if [ $# -eq 0 ] || [ -z "$1" ]; then echo '<ERROR>'; else echo "<ERROR $*>"; fi; exit ${MARKER_EXIT}; }`,
  "export DEBIAN_FRONTEND=noninteractive",
  "export DEBIAN_PRIORITY=critical",
].join("\n");

export interface ScriptRun {
  readonly script: string;
  /** Working directory: the project directory. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Each line of combined output, as it comes. */
  readonly onLine?: (line: string) => void;
  /** Kills the script's process group. */
  readonly signal?: AbortSignal;
  /** Where to run it: this machine by default (a LocalTransport with `baseEnv`). */
  readonly transport?: Transport;
  /** Base environment (defaults to this process's). */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  /** Call `onWarn` every `warnMs` with what was printed since the last call. 0 or less: never. */
  readonly warnMs?: number;
  readonly onWarn?: (afterMs: number, output: string) => void;
  /** Kill the script after `killMs`. 0 or less: never. */
  readonly killMs?: number;
}

export type ScriptOutcome =
  | { readonly kind: "ok"; readonly results: Readonly<Record<string, string>>; readonly output: string }
  | { readonly kind: "error" | "fatal"; readonly message: string; readonly output: string };

/** Wrap a user's script the way Spread does (tracing after the prelude, so no secrets are traced), for bash. */
export function wrapScript(script: string): string {
  return inBash(`${PRELUDE}\nset -x\n(\n${script.trim()}\n) < /dev/null\n`);
}

/** Run one allocate/discard script; never throws for the script's own failure. */
export async function runAdhocScript(run: ScriptRun): Promise<ScriptOutcome> {
  if (run.script.trim() === "") return { kind: "ok", results: {}, output: "" };
  const transport = run.transport ?? new LocalTransport({ label: "adhoc", env: run.baseEnv ?? process.env });
  // Every `<KEY value>` line, wherever it comes: ADDRESS may be followed by more output.
  const results: Record<string, string> = {};
  const r = await runScript({
    transport,
    script: { text: wrapScript(run.script), markers: "output" },
    cwd: run.cwd,
    env: run.env,
    ...(run.signal ? { signal: run.signal } : {}),
    ...(run.warnMs !== undefined && run.warnMs > 0 ? { warnMs: run.warnMs } : {}),
    ...(run.killMs !== undefined && run.killMs > 0 ? { killMs: run.killMs } : {}),
    ...(run.onWarn ? { onWarn: run.onWarn } : {}),
    onLine: (line) => {
      if (line.partial) return run.onLine?.(line.text);
      const m = markerLine(line.text);
      if (m) results[m[0]] = m[1];
      run.onLine?.(line.text);
    },
  });
  if (!run.transport) await transport.close();
  const output = shownTail(r.output, r.truncated);
  switch (r.failure?.kind) {
    case undefined:
      break;
    case "timeout":
      return { kind: "error", message: "kill-timeout reached", output };
    case "interrupt":
      return { kind: "fatal", message: "interrupted", output };
    case "transport":
      return { kind: "error", message: `cannot start /bin/sh: ${r.failure.message}`, output };
    case "marker":
      if (r.marker?.kind === "ERROR" || r.marker?.kind === "FATAL") {
        return { kind: r.marker.kind === "FATAL" ? "fatal" : "error", message: r.marker.arg, output };
      }
      // A REBOOT marker means nothing here: an ordinary failure.
      return failedWith(`exit status ${r.exitCode}`, output);
    case "exit":
    case "signal":
      return failedWith(r.failure.message, output);
  }
  if (results["FATAL"]) return { kind: "fatal", message: results["FATAL"], output };
  if (results["ERROR"]) return { kind: "error", message: results["ERROR"], output };
  return { kind: "ok", results, output };
}

/** A failure worth retrying, with what the script printed. */
function failedWith(how: string, output: string): ScriptOutcome {
  const text = output.trim();
  return { kind: "error", message: text === "" ? how : `${how}:\n-----\n${text}\n-----`, output };
}
