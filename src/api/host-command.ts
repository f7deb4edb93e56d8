// `$(HOST:cmd)` in environment values runs on the orchestrator, once per run
// per distinct command (plan/ caches); this is the I/O half of that.
//
// Spread runs these with Go's exec.Command and no limit (spread/project.go,
// evalcmd). troupe gives each command a timeout, 5 minutes unless
// TROUPE_HOST_COMMAND_TIMEOUT says otherwise (an environment variable, so
// that a spread.yaml stays as Spread reads it), and:
//
// - runHostCommand (asynchronous) starts the command in a process group of
//   its own, and on timeout or when its signal aborts kills that whole group
//   (SIGTERM, then SIGKILL), so nothing it started is left behind;
// - makeHostCommand (synchronous, for the planner as it is called today)
//   stops the command at its timeout too; while it runs, troupe cannot
//   react to signals, but the command shares troupe's process group, so a
//   Ctrl-C in the terminal reaches it, as in Spread.

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { parseDuration } from "../config/duration.js";
import type { AsyncHostCommand, HostCommand } from "../plan/host-commands.js";
import { scriptFromEnv } from "../script/launcher.js";
import { formatDuration } from "../sync/duration.js";
import { TroupeError } from "../util/errors.js";
import { setLongTimeout, type LongTimer } from "../util/long-timer.js";

const SHELL = existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";

/** How long one `$(HOST:cmd)` may run when TROUPE_HOST_COMMAND_TIMEOUT does not say. */
export const DEFAULT_HOST_COMMAND_TIMEOUT_MS = 5 * 60_000;

export const HOST_COMMAND_TIMEOUT_VAR = "TROUPE_HOST_COMMAND_TIMEOUT";

/** What a command may print on stdout (as execFileSync's default maxBuffer, which troupe used before). */
const MAX_OUTPUT = 1024 * 1024;
/** How long a command has to exit after SIGTERM before its group gets SIGKILL. */
const KILL_GRACE_MS = 2000;

export interface HostCommandOptions {
  /** Where commands run: the project file's directory. */
  readonly cwd: string;
  /** How long one command may run, in ms; -1 for no limit. Default: hostCommandTimeout(). */
  readonly timeoutMs?: number;
  /** Aborting kills the running command and everything it started; it then fails with E_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/** The timeout from TROUPE_HOST_COMMAND_TIMEOUT (Go's duration syntax; -1: none), else the default. */
export function hostCommandTimeout(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const text = env[HOST_COMMAND_TIMEOUT_VAR]?.trim() ?? "";
  if (text === "") return DEFAULT_HOST_COMMAND_TIMEOUT_MS;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new TroupeError(
      "E_USAGE",
      `${HOST_COMMAND_TIMEOUT_VAR}=${JSON.stringify(text)} is not a duration; write e.g. 30s, 10m or 1h, or -1 for no limit`,
    );
  }
  return ms === 0 ? DEFAULT_HOST_COMMAND_TIMEOUT_MS : ms < 0 ? -1 : ms;
}

function timedOut(cmd: string, ms: number): TroupeError {
  return new TroupeError(
    "E_PROJECT",
    `$(HOST:${cmd}) did not finish within ${formatDuration(ms)}, so it was stopped; fix it, or allow it longer with ${HOST_COMMAND_TIMEOUT_VAR} (e.g. 30m, or -1 for no limit)`,
  );
}

function failed(cmd: string, stderr: string, how: string): TroupeError {
  const msg = stderr.trim().split("\n").join("; ") || how;
  return new TroupeError("E_PROJECT", `$(HOST:${cmd}) returned error: ${msg}`);
}

function interrupted(cmd: string): TroupeError {
  return new TroupeError("E_INTERRUPTED", `$(HOST:${cmd}) was interrupted`);
}

function tooMuch(cmd: string): TroupeError {
  return new TroupeError("E_PROJECT", `$(HOST:${cmd}) printed more than 1 MiB; a variable's value should be shorter`);
}

/** Run one `$(HOST:cmd)`: its stdout without trailing newlines, or a TroupeError. */
export function runHostCommand(cmd: string, options: HostCommandOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? hostCommandTimeout();
  const signal = options.signal;
  return new Promise<string>((resolve, reject) => {
    if (signal?.aborted) {
      reject(interrupted(cmd));
      return;
    }
    const { args, env } = scriptFromEnv(cmd);
    const child = spawn(SHELL, args, {
      cwd: options.cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let settled = false;
    let timer: LongTimer | undefined;

    const finish = (error: TroupeError | undefined, value = ""): void => {
      if (settled) return;
      settled = true;
      timer?.clear();
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve(value);
    };
    // Stop the whole group: the command and whatever it started. The promise
    // settles at once: something that left the group may hold the pipes open.
    const stop = (error: TroupeError): void => {
      if (settled) return;
      finish(error);
      const group = child.pid;
      if (group === undefined) return;
      const kill = (sig: NodeJS.Signals): void => {
        try {
          process.kill(-group, sig);
        } catch {
          // already gone
        }
      };
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS).unref();
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const onAbort = (): void => stop(interrupted(cmd));

    child.stdout.on("data", (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > MAX_OUTPUT) stop(tooMuch(cmd));
      else out.push(b);
    });
    child.stderr.on("data", (b: Buffer) => {
      // The first 64 KiB explain a failure; the rest is dropped.
      if (errBytes < 64 * 1024) err.push(b);
      errBytes += b.length;
    });
    child.on("error", (e) => finish(new TroupeError("E_PROJECT", `$(HOST:${cmd}) could not start ${SHELL}: ${e.message}`)));
    child.on("close", (code, sig) => {
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) finish(undefined, Buffer.concat(out).toString("utf8").replace(/\n+$/, ""));
      else finish(failed(cmd, stderr, code === null ? `killed by ${sig ?? "a signal"}` : `exit status ${code}`));
    });
    if (timeoutMs >= 0) timer = setLongTimeout(() => stop(timedOut(cmd, timeoutMs)), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** runHostCommand with fixed options, for planWithHostCommands (plan/host-commands.ts). */
export function makeAsyncHostCommand(options: HostCommandOptions): AsyncHostCommand {
  const timeoutMs = options.timeoutMs ?? hostCommandTimeout();
  return (cmd) => runHostCommand(cmd, { ...options, timeoutMs });
}

/**
 * A synchronous runner for planJobs() and resolveSettings(). It stops a
 * command at its timeout (spawnSync kills the shell; what the shell started
 * in the background may be left). Prefer planWithHostCommands with
 * makeAsyncHostCommand, which can also be interrupted.
 */
export function makeHostCommand(cwd: string, options: { readonly timeoutMs?: number } = {}): HostCommand {
  const timeoutMs = options.timeoutMs ?? hostCommandTimeout();
  return (cmd: string): string => {
    const { args, env } = scriptFromEnv(cmd);
    const r = spawnSync(SHELL, args, {
      cwd,
      env: { ...process.env, ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: MAX_OUTPUT,
      killSignal: "SIGKILL",
      ...(timeoutMs >= 0 ? { timeout: timeoutMs } : {}),
    });
    const code = r.error && "code" in r.error ? r.error.code : undefined;
    if (code === "ETIMEDOUT") throw timedOut(cmd, timeoutMs);
    if (code === "ENOBUFS") throw tooMuch(cmd);
    if (r.error) throw new TroupeError("E_PROJECT", `$(HOST:${cmd}) could not start ${SHELL}: ${r.error.message}`);
    if (r.signal === "SIGINT") throw interrupted(cmd);
    if (r.status !== 0) throw failed(cmd, r.stderr, r.status === null ? `killed by ${r.signal ?? "a signal"}` : `exit status ${r.status}`);
    return r.stdout.replace(/\n+$/, "");
  };
}
