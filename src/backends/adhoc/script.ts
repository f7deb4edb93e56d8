// Running the adhoc backend's `allocate` and `discard` scripts on the
// orchestrator, the way Spread does (spread/adhoc.go, localScript in
// spread/client.go): `set -eu`, the helpers ADDRESS, ERROR and FATAL, the
// SPREAD_* variables, shell tracing, stdout and stderr combined, and the
// script in a subshell with its stdin from /dev/null. Unlike Spread, the
// script runs under /bin/sh and keeps the user's PATH.
//
// A script reports with lines `<KEY value>`: ADDRESS prints `<ADDRESS addr>`;
// ERROR and FATAL print `<ERROR msg>` / `<FATAL msg>` and exit 213. ERROR (or
// any other failure) is worth retrying; FATAL is not.

import { LocalTransport } from "../../transport/local.js";

/** Spread's marker exit status for ERROR, FATAL and REBOOT. */
export const MARKER_EXIT = 213;

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

const MARKER_LINE = /^<([A-Z_]+)(?: (.*))?>$/;

export interface ScriptRun {
  readonly script: string;
  /** Working directory: the project directory. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Each line of combined output, as it comes. */
  readonly onLine?: (line: string) => void;
  /** Kills the script's process group. */
  readonly signal?: AbortSignal;
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

/** Wrap a user's script the way Spread does (tracing after the prelude, so no secrets are traced). */
export function wrapScript(script: string): string {
  return `${PRELUDE}\nset -x\n(\n${script.trim()}\n) < /dev/null\n`;
}

/** Run one allocate/discard script; never throws for the script's own failure. */
export async function runScript(run: ScriptRun): Promise<ScriptOutcome> {
  if (run.script.trim() === "") return { kind: "ok", results: {}, output: "" };
  const transport = new LocalTransport({ label: "adhoc", env: run.baseEnv ?? process.env });
  const chunks: Buffer[] = [];
  let pending = "";
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    if (!run.onLine) return;
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) run.onLine(l);
  };
  const killer = new AbortController();
  const onAbort = (): void => killer.abort();
  if (run.signal?.aborted) killer.abort();
  else run.signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const killTimer =
    run.killMs !== undefined && run.killMs > 0
      ? setTimeout(() => {
          timedOut = true;
          killer.abort();
        }, run.killMs)
      : undefined;
  let warned = 0;
  let warnCount = 0;
  const warnTimer =
    run.warnMs !== undefined && run.warnMs > 0 && run.onWarn
      ? setInterval(() => {
          const all = Buffer.concat(chunks);
          warnCount++;
          run.onWarn?.(warnCount * (run.warnMs ?? 0), all.subarray(warned).toString("utf8"));
          warned = all.length;
        }, run.warnMs)
      : undefined;
  let result;
  try {
    result = await transport.exec({
      script: wrapScript(run.script),
      cwd: run.cwd,
      env: run.env,
      onStdout: onData,
      onStderr: onData,
      signal: killer.signal,
    });
  } catch (e) {
    return { kind: "error", message: `cannot start /bin/sh: ${(e as Error).message}`, output: "" };
  } finally {
    if (killTimer) clearTimeout(killTimer);
    if (warnTimer) clearInterval(warnTimer);
    run.signal?.removeEventListener("abort", onAbort);
  }
  if (timedOut) return { kind: "error", message: "kill-timeout reached", output: Buffer.concat(chunks).toString("utf8") };
  if (run.signal?.aborted) return { kind: "fatal", message: "interrupted", output: Buffer.concat(chunks).toString("utf8") };
  if (pending !== "" && run.onLine) run.onLine(pending);
  const output = Buffer.concat(chunks).toString("utf8");
  const lines = output
    .trim()
    .split("\n")
    .map((l) => l.trim());

  if (result.exitCode === MARKER_EXIT) {
    const m = MARKER_LINE.exec(lines[lines.length - 1] ?? "");
    if (m && (m[1] === "ERROR" || m[1] === "FATAL")) {
      return { kind: m[1] === "FATAL" ? "fatal" : "error", message: m[2] ?? "", output };
    }
  }
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `killed by ${result.signal ?? "a signal"}` : `exit status ${result.exitCode}`;
    const text = output.trim();
    return { kind: "error", message: text === "" ? how : `${how}:\n-----\n${text}\n-----`, output };
  }
  const results: Record<string, string> = {};
  for (const l of lines) {
    const m = MARKER_LINE.exec(l);
    if (m && m[1]) results[m[1]] = m[2] ?? "";
  }
  if (results["FATAL"]) return { kind: "fatal", message: results["FATAL"], output };
  if (results["ERROR"]) return { kind: "error", message: results["ERROR"], output };
  return { kind: "ok", results, output };
}
