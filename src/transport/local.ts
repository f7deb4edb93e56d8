// The transport of hosts that are processes on this machine (local backend,
// and the orchestrator side of tests). Each script runs in its own process
// group so that a kill reaches everything it started.

import { shQuote } from "../exec/shell-quote.js";
import { makeDirs } from "../util/mkdirs.js";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { bashBody, scriptFromEnv } from "../script/launcher.js";
import { LocalRunner, RUNNER_BASH } from "./local-runner.js";
import type { ExecOptions, ExecResult, Transport } from "./transport.js";

/** After the script exits, how long to wait for stdio held open by its background children. */
const STDIO_GRACE_MS = 2000;
/** After SIGTERM to the group, how long before SIGKILL. */
const KILL_GRACE_MS = 1000;

export interface LocalTransportOptions {
  readonly label: string;
  /** Base environment of every script (defaults to this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The shell (defaults to /bin/sh). */
  readonly shell?: string;
}

export class LocalTransport implements Transport {
  readonly label: string;
  private readonly baseEnv: Readonly<Record<string, string | undefined>>;
  private readonly shell: string;
  private readonly running = new Set<ChildProcess>();
  private runner: LocalRunner | undefined;

  constructor(options: LocalTransportOptions) {
    this.label = options.label;
    this.baseEnv = options.env ?? process.env;
    this.shell = options.shell ?? "/bin/sh";
  }

  exec(options: ExecOptions): Promise<ExecResult> {
    if (this.shell === "/bin/sh" && canUseRunner(options)) {
      // A script for bash goes to bash itself: one exec fewer than sh finding bash.
      if (!this.runner || this.runner.finished) {
        this.runner?.close();
        this.runner = new LocalRunner({ ...this.baseEnv });
      }
      if (this.runner.idle) return this.execOnRunner(this.runner, options);
    }
    const { args, env: scriptEnv } = scriptFromEnv(options.script);
    const child = spawn(this.shell, args, {
      cwd: options.cwd,
      env: { ...this.baseEnv, ...options.env, ...scriptEnv },
      // A process group of its own, so that kill reaches the whole tree; but
      // not an interactive shell: in a new session it would have no
      // controlling terminal, hence no job control (Ctrl-Z, fg, jobs), and
      // Ctrl-C would reach troupe instead of it. In troupe's session, an
      // interactive bash takes the terminal's foreground itself, and gives it
      // back when it exits.
      detached: !options.interactive,
      stdio: options.interactive ? "inherit" : ["pipe", "pipe", "pipe"],
    });
    this.running.add(child);
    return new Promise<ExecResult>((resolve, reject) => {
      let exited: ExecResult | undefined;
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = (result: ExecResult): void => {
        if (settled) return;
        settled = true;
        if (graceTimer) clearTimeout(graceTimer);
        options.signal?.removeEventListener("abort", onAbort);
        this.running.delete(child);
        resolve(result);
      };
      const onAbort = (): void => killGroup(child);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener("abort", onAbort, { once: true });

      child.on("error", (err) => {
        if (settled) return;
        settled = true;
        this.running.delete(child);
        reject(err);
      });
      child.on("exit", (code, signal) => {
        exited = { exitCode: code, signal };
        if (options.interactive) return finish(exited);
        // Background children may hold stdout open; don't wait on them forever.
        graceTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          if (exited) finish(exited);
        }, STDIO_GRACE_MS);
        graceTimer.unref();
      });
      child.on("close", (code, signal) => finish(exited ?? { exitCode: code, signal }));

      if (!options.interactive) {
        if (options.onStdout) child.stdout?.on("data", options.onStdout);
        else child.stdout?.resume();
        if (options.onStderr) child.stderr?.on("data", options.onStderr);
        else child.stderr?.resume();
        feedStdin(child, options.stdin);
      }
    });
  }

  /** The fast path: the host's fork server starts the script (see local-runner.ts). */
  private async execOnRunner(runner: LocalRunner, options: ExecOptions): Promise<ExecResult> {
    let text = "";
    if (options.cwd) text += `cd ${shQuote(options.cwd)} || exit 1\n`;
    for (const [k, v] of Object.entries(options.env ?? {})) text += `export ${k}=${shQuote(v)}\n`;
    // The script itself follows, run by the runner's `sh FILE` (one exec fewer
    // than `sh -c`), or, for a script written for bash, in a subshell forked
    // from the runner's bash (no exec at all; see local-runner.ts).
    const forBash = RUNNER_BASH ? bashBody(options.script) : undefined;
    text += (forBash ?? options.script) + "\n";
    const onAbort = (): void => {
      runner.kill("SIGTERM");
      setTimeout(() => runner.kill("SIGKILL"), KILL_GRACE_MS).unref();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await runner.run({ text, bash: forBash !== undefined, onStdout: options.onStdout, onStderr: options.onStderr });
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  async put(archive: Readable, dir: string): Promise<void> {
    await makeDirs(dir);
    await pipeline(archive, tar.x({ cwd: dir, preserveOwner: false }));
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    return tar.c({ cwd: dir, gzip: true, portable: true }, [...paths]) as unknown as Readable;
  }

  async close(): Promise<void> {
    this.runner?.close();
    this.runner = undefined;
    for (const child of this.running) killGroup(child);
    this.running.clear();
  }
}

/** Scripts with no input, not interactive, and plain variable names go through the runner. */
function canUseRunner(options: ExecOptions): boolean {
  if (!HAS_SETSID || options.interactive || options.stdin !== undefined) return false;
  return Object.keys(options.env ?? {}).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
}

const HAS_SETSID = ["/usr/bin/setsid", "/bin/setsid", "/usr/sbin/setsid"].some((p) => existsSync(p));

function feedStdin(child: ChildProcess, stdin: ExecOptions["stdin"]): void {
  const sink = child.stdin;
  if (!sink) return;
  sink.on("error", () => {
    /* the script may exit without reading its input */
  });
  if (stdin === undefined) sink.end();
  else if (typeof stdin === "string" || Buffer.isBuffer(stdin)) sink.end(stdin);
  else stdin.pipe(sink);
}

/** SIGTERM the child's process group, then SIGKILL it if anything is left. */
export function killGroup(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // No such group (an interactive shell stays in troupe's): the process itself.
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signalGroup("SIGTERM");
  setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS).unref();
}
