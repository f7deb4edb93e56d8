// The ControlMaster connection of one host: set up under the shared handshake
// limiter, retried with backoff while the failure looks passing (refused,
// timed out, reset), given up at once when it cannot heal (authentication,
// host key), ended with `ssh -O exit`.

import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../../util/errors.js";
import { controlArgs, masterArgs, type SshTarget } from "./args.js";
import { askpassHelper, nextControlPath, trackMaster } from "./control-dir.js";
import { lastLines } from "../messages.js";
import type { Semaphore } from "./limiter.js";
import { AttemptFailed } from "./session-parts.js";

export interface MasterOptions {
  readonly target: SshTarget;
  /** For messages. */
  readonly label: string;
  readonly limiter: Semaphore;
  readonly password?: string;
  /** Connection attempts before giving up (default 3). */
  readonly attempts?: number;
  /** First pause between attempts; doubles each time (default 500 ms). */
  readonly backoffMs?: number;
  /** How long one attempt may take from spawn to the control socket (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** The `ssh` program (default `ssh` from PATH). */
  readonly ssh?: string;
}

/** Failures no retry can fix. */
export const PERMANENT =
  /Permission denied|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known|Bad configuration option|no argument after keyword|Too many authentication failures|Name or service not known|Bad owner or permissions|command-line line|Unsupported option|keyword .* extra arguments/i;

const STDERR_TAIL = 4096;

export class Master {
  readonly controlPath: string;
  private child: ChildProcess | undefined;
  private ready = false;
  private connecting: Promise<void> | undefined;
  private stderrTail = "";
  /** Bumped by exit(): attempts started before it give up. */
  private generation = 0;

  constructor(private readonly o: MasterOptions) {
    this.controlPath = nextControlPath();
  }

  /** Connected, and the master process still runs. */
  get alive(): boolean {
    const c = this.child;
    return this.ready && c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The master's pid while it runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.alive ? this.child?.pid : undefined;
  }

  /**
   * Connect unless connected. Concurrent callers share one attempt; a
   * caller's abort only stops its own wait (E_INTERRUPTED), not the attempt
   * others wait for.
   */
  ensure(signal?: AbortSignal): Promise<void> {
    if (this.alive) return Promise.resolve();
    this.connecting ??= this.connectWithRetries().finally(() => {
      this.connecting = undefined;
    });
    return raceAbort(this.connecting, signal, () => new TroupeError("E_INTERRUPTED", `interrupted while connecting to ${this.o.label}`));
  }

  private async connectWithRetries(): Promise<void> {
    const attempts = Math.max(1, this.o.attempts ?? 3);
    let pause = this.o.backoffMs ?? 500;
    let last = "";
    const generation = this.generation;
    const closed = (): TroupeError => new TroupeError("E_TRANSPORT", `${this.o.label}: the connection was closed while being set up`);
    for (let n = 1; ; n++) {
      if (generation !== this.generation) throw closed();
      try {
        await this.attempt();
        if (generation !== this.generation) {
          this.ready = false;
          if (this.child) killQuietly(this.child, "SIGTERM");
          throw closed();
        }
        return;
      } catch (err) {
        if (!(err instanceof AttemptFailed)) throw err;
        last = err.message;
        if (err.permanent || n >= attempts) break;
      }
      await sleep(pause);
      pause *= 2;
    }
    const t = this.o.target;
    const where = `${t.user ? `${t.user}@` : ""}${t.host}${t.port ? `:${t.port}` : ""}`;
    throw new TroupeError("E_TRANSPORT", `cannot connect to ${this.o.label} (${where}): ${last || "ssh failed"}`);
  }

  private async attempt(signal?: AbortSignal): Promise<void> {
    const release = await this.o.limiter.acquire(signal);
    try {
      rmSync(this.controlPath, { force: true });
      this.stderrTail = "";
      this.ready = false;
      const env = sshEnv(this.o.password);
      const child = spawn(this.o.ssh ?? "ssh", masterArgs(this.o.target, this.controlPath), {
        // Its own process group: the user's Ctrl-C reaches troupe, which then
        // still has the connection to run restore scripts and kills.
        detached: true,
        stdio: ["ignore", "ignore", "pipe"],
        env,
      });
      this.child = child;
      trackMaster(child);
      child.stderr?.on("data", (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
      });
      await this.waitReady(child, signal);
      this.ready = true;
      // A transport nobody closed must not keep the process alive; the exit hook ends the master.
      child.unref();
      (child.stderr as { unref?: () => void } | null)?.unref?.();
    } finally {
      release();
    }
  }

  private waitReady(child: ChildProcess, signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.o.readyTimeoutMs ?? 60_000;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let poll: NodeJS.Timeout | undefined;
      const started = Date.now();
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        if (poll) clearTimeout(poll);
        child.off("exit", onExit);
        signal?.removeEventListener("abort", onAbort);
        if (err) {
          killQuietly(child, "SIGTERM");
          reject(err);
        } else resolve();
      };
      const onExit = (code: number | null): void => {
        // Let the last stderr bytes arrive before reading them.
        setImmediate(() => {
          const msg = lastLines(this.stderrTail) || `ssh exited with status ${code ?? "?"}`;
          finish(new AttemptFailed(msg, PERMANENT.test(this.stderrTail)));
        });
      };
      const onAbort = (): void => finish(new TroupeError("E_INTERRUPTED", `interrupted while connecting to ${this.o.label}`));
      child.once("exit", onExit);
      child.once("error", (err) => finish(new AttemptFailed(`cannot run ssh: ${err.message}`, true)));
      if (signal) signal.addEventListener("abort", onAbort, { once: true });
      let delay = 10;
      const check = (): void => {
        stat(this.controlPath).then(
          (st) => (st.isSocket() ? finish() : schedule()),
          () => schedule(),
        );
      };
      const schedule = (): void => {
        if (done) return;
        if (Date.now() - started > timeoutMs) {
          finish(new AttemptFailed(`no connection after ${Math.round(timeoutMs / 1000)} s`, false));
          return;
        }
        poll = setTimeout(check, delay);
        delay = Math.min(delay * 2, 100);
      };
      schedule();
    });
  }

  /** Resolves true once the master process has exited, false after `ms`. */
  waitExit(ms: number): Promise<boolean> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        c.off("exit", onExit);
        resolve(false);
      }, ms);
      const onExit = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      c.once("exit", onExit);
    });
  }

  /** `ssh -O exit`, then signals if the master lingers. Idempotent. */
  async exit(): Promise<void> {
    const c = this.child;
    this.ready = false;
    this.generation++;
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      rmSync(this.controlPath, { force: true });
      return;
    }
    await new Promise<void>((resolve) => {
      const ctl = spawn(this.o.ssh ?? "ssh", controlArgs(this.o.target, this.controlPath, "exit"), { stdio: "ignore" });
      const timer = setTimeout(() => killQuietly(ctl, "SIGKILL"), 5000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      ctl.once("exit", done);
      ctl.once("error", done);
    });
    if (!(await this.waitExit(2000))) {
      killQuietly(c, "SIGTERM");
      if (!(await this.waitExit(2000))) killQuietly(c, "SIGKILL");
    }
    rmSync(this.controlPath, { force: true });
  }

  /** What the master said on stderr lately (for messages). */
  get lastError(): string {
    return lastLines(this.stderrTail);
  }
}

/** The environment of an `ssh` that authenticates: with a password, the askpass helper answers for it. */
export function sshEnv(password: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password !== undefined) {
    env["SSH_ASKPASS"] = askpassHelper();
    env["SSH_ASKPASS_REQUIRE"] = "force";
    env["TROUPE_SSH_PASSWORD"] = password;
    env["DISPLAY"] ??= "troupe:0";
  }
  return env;
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, error: () => Error): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(error());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(error());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

export function killQuietly(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    child.kill(sig);
  } catch {
    /* already gone */
  }
}
