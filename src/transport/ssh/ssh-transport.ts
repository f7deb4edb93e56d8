// The OpenSSH transport: one ControlMaster connection per host, every script,
// upload and download a session multiplexed over it. See remote.ts for what
// runs on the host and master.ts for the connection itself. Two variants:
// `commandSession` runs plain commands in one long-lived session on the
// master (command-session.ts), and `shareConnection: false` opens a
// connection per command with no master at all (one command per host).

import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../../util/errors.js";
import type { ExecOptions, ExecResult, Transport } from "../transport.js";
import { directArgs, sessionArgs, type SshTarget } from "./args.js";
import { firstLines, lastLines } from "../messages.js";
import { handshakeLimiter, Semaphore } from "./limiter.js";
import type { LoopRunner } from "./loop-runner.js";
import { MarkerFilter } from "./markers.js";
import { EarlyStderr, feedSession, killAll, outputCollector, whileRunning, type Running } from "./session-parts.js";
import { killQuietly, Master, PERMANENT, sshEnv } from "./master.js";
import {
  commandLoop,
  getScript,
  interactiveWrapper,
  killGroupScript,
  putScript,
  remoteCommand,
  scriptFileText,
  sessionLaunch,
  sessionToken,
  uploadScript,
} from "./remote.js";

export interface SshTransportOptions extends SshTarget {
  /** For messages; the host by default. */
  readonly label?: string;
  /** Answer password prompts with this (through an SSH_ASKPASS helper). */
  readonly password?: string;
  /** Bounds connection setup; the process-wide `handshakeLimiter` by default. */
  readonly handshakes?: Semaphore;
  /**
   * Sessions at once on this host (default 8: OpenSSH servers allow 10 per
   * connection by default; kills bypass this, so some room is kept).
   */
  readonly maxSessions?: number;
  /** Connection attempts before E_TRANSPORT (default 3), first pause between them (default 500 ms, doubling). */
  readonly connectAttempts?: number;
  readonly backoffMs?: number;
  /** The `ssh` program (default `ssh` from PATH). */
  readonly ssh?: string;
  /**
   * Share one ControlMaster connection between all sessions to this host
   * (default). false: every command, upload and download opens a connection
   * of its own, and none is kept open: for a host that gets one command (as
   * `troupe exec` does), one `ssh` process instead of three (master,
   * session, `-O exit`). Connection setups are bounded by `handshakes` all
   * the same.
   */
  readonly shareConnection?: boolean;
  /**
   * Run plain commands (no stdin, not interactive, a few KiB at most) one
   * after another in one long-lived session on the master, instead of a new
   * session each: no `ssh` process to start per command. Each command still
   * runs in a process group and session of its own on the host (the host
   * needs setsid; without it, commands get sessions of their own). A command
   * that arrives while another runs there gets a session of its own. Off by default.
   */
  readonly commandSession?: boolean;
}

/** Scripts longer than this are uploaded to a file first (the wrapper on stdin is read a byte at a time). */
const MAX_INLINE = 100_000;
/** After the wrapper reports the exit status, how long background children may hold the output open. */
const STDIO_GRACE_MS = 2000;
/** After asking the host to kill a group, how long before the local ssh is killed regardless. */
const KILL_FALLBACK_MS = 5000;
/** A command session nobody used for this long is closed (the master stays). */
const LOOP_IDLE_MS = 60_000;
/** In direct mode, how long an upload or download may hold a handshake slot at most. */
const DIRECT_SLOT_MS = 10_000;
/** In direct mode, how long a command may hold a handshake slot before its wrapper reports in. */
const COMMAND_SLOT_MS = 60_000;
/** What `ssh` prints when the connection itself went (direct mode has no master to ask). */
const CONNECTION_LOST = /closed by remote host|Connection reset|Broken pipe|not responding|Connection timed out|client_loop|packet_write/i;

type Outcome =
  | { readonly kind: "done"; readonly result: ExecResult }
  /** The wrapper never reported in: nothing ran, so trying again is safe (unless it cannot help). */
  | { readonly kind: "not-started"; readonly message: string; readonly permanent?: boolean }
  | { readonly kind: "lost"; readonly message: string };

export class SshTransport implements Transport {
  readonly label: string;
  private readonly target: SshTarget;
  /** Made on first use: a transport with no shared connection never needs one (nor its control directory). */
  private masterObj: Master | undefined;
  private readonly sessions: Semaphore;
  private readonly running = new Set<Running>();
  private closed = false;
  private readonly shared: boolean;
  /** The command session's runner, loaded and made on first use (commandSession only). */
  private loopRunner: Promise<LoopRunner> | undefined;

  constructor(private readonly o: SshTransportOptions) {
    this.label = o.label ?? o.host;
    this.target = { ...o, withPassword: o.password !== undefined };
    this.sessions = new Semaphore(o.maxSessions ?? 8);
    this.shared = o.shareConnection ?? true;
  }

  private get master(): Master {
    this.masterObj ??= new Master({
      target: this.target,
      label: this.label,
      limiter: this.o.handshakes ?? handshakeLimiter,
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      ...(this.o.connectAttempts !== undefined ? { attempts: this.o.connectAttempts } : {}),
      ...(this.o.backoffMs !== undefined ? { backoffMs: this.o.backoffMs } : {}),
      ...(this.o.ssh !== undefined ? { ssh: this.o.ssh } : {}),
    });
    return this.masterObj;
  }

  /**
   * The command session's runner. Loaded on first use, like the modules it
   * needs: `troupe exec` (no shared connection, so no command session)
   * starts without them.
   */
  private loop(): Promise<LoopRunner> {
    this.loopRunner ??= Promise.all([import("./loop-runner.js"), import("./command-session.js")]).then(
      ([{ LoopRunner }, { childPipe }]) =>
        new LoopRunner(
          {
            openLoop: () => childPipe(this.spawnSsh(remoteCommand(commandLoop()), {}, ["pipe", "pipe", "pipe"])),
            killRemote: (pgid) => this.killRemote(pgid),
            connectionGone: async (ms) => ({ gone: await this.master.waitExit(ms), why: this.masterReason() }),
            running: this.running,
          },
          LOOP_IDLE_MS,
        ),
    );
    return this.loopRunner;
  }

  /** The master's pid while connected. */
  get masterPid(): number | undefined {
    return this.masterObj?.pid;
  }

  get connected(): boolean {
    return this.masterObj?.alive ?? false;
  }

  /** Open the master connection now rather than on first use (nothing to open without a shared connection). */
  async connect(signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    if (this.shared) await this.master.ensure(signal);
  }

  /** Connected, when sessions share the master; nothing to wait for otherwise. */
  private ensure(signal?: AbortSignal): Promise<void> {
    return this.shared ? this.master.ensure(signal) : Promise.resolve();
  }

  /** `ssh` running `command` on the host: a session over the master, or a connection of its own. */
  private spawnSsh(command: string, mode: { tty?: boolean; noStdin?: boolean }, stdio: "inherit" | ("ignore" | "pipe")[]): ChildProcess {
    if (this.shared) {
      return spawn(this.o.ssh ?? "ssh", sessionArgs(this.target, this.master.controlPath, command, mode), {
        detached: stdio !== "inherit", // a Ctrl-C on the terminal must not cut sessions; troupe kills them itself
        stdio,
      });
    }
    return spawn(this.o.ssh ?? "ssh", directArgs(this.target, command, mode), {
      detached: stdio !== "inherit",
      stdio,
      ...(this.o.password !== undefined ? { env: sshEnv(this.o.password) } : {}),
    });
  }

  /**
   * Without a shared connection, each session sets one up: hold a handshake
   * slot until `started` is called (or the process ends, or `maxMs`).
   */
  private async directSlot(
    child: () => ChildProcess,
    maxMs: number,
    signal?: AbortSignal,
  ): Promise<{ child: ChildProcess; started: () => void }> {
    if (this.shared) return { child: child(), started: () => undefined };
    const release = await (this.o.handshakes ?? handshakeLimiter).acquire(signal);
    const c = child();
    const timer = setTimeout(release, maxMs);
    timer.unref();
    const started = (): void => {
      clearTimeout(timer);
      release();
    };
    c.once("exit", started);
    c.once("error", started);
    return { child: c, started };
  }

  async exec(options: ExecOptions): Promise<ExecResult> {
    this.checkOpen();
    let release: () => void;
    try {
      release = await this.sessions.acquire(options.signal);
    } catch (err) {
      if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
      throw err;
    }
    try {
      if (options.interactive) return await this.execInteractive(options);
      const replayable = options.stdin === undefined || typeof options.stdin === "string" || Buffer.isBuffer(options.stdin);
      let pause = this.o.backoffMs ?? 500;
      const attempts = Math.max(1, this.o.connectAttempts ?? 3);
      const route = { viaLoop: this.o.commandSession === true && this.shared && options.stdin === undefined };
      for (let n = 1; ; n++) {
        if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
        try {
          await this.ensure(options.signal);
        } catch (err) {
          // Aborted before anything ran: the script was killed, in effect.
          if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
          throw err;
        }
        const outcome: Outcome = route.viaLoop
          ? await (await this.loop()).runOr(options, route, () => this.runSession(options))
          : await this.runSession(options);
        if (outcome.kind === "done") return outcome.result;
        if (outcome.kind === "lost" || !replayable || n >= attempts || outcome.permanent) {
          const message =
            !this.shared && outcome.kind === "not-started"
              ? `cannot connect to ${this.label} (${this.where()}): ${outcome.message}`
              : `${this.label}: ${outcome.message}`;
          throw new TroupeError("E_TRANSPORT", message);
        }
        await sleep(pause);
        pause *= 2;
      }
    } finally {
      release();
    }
  }

  private async runSession(options: ExecOptions): Promise<Outcome> {
    const token = sessionToken();
    const noStdin = options.stdin === undefined;
    let launch = sessionLaunch({ script: options.script, env: options.env, cwd: options.cwd, token, noStdin });
    if (options.script.length > MAX_INLINE) {
      const scriptFile = `/tmp/.troupe-script-${token}`;
      const up = await this.simpleSession(remoteCommand(uploadScript(scriptFile)), scriptFileText(scriptFile, options.env, options.script));
      if (up.code !== 0) {
        const message = `cannot upload a ${options.script.length}-byte script: ${up.output.trim() || `status ${up.code}`}`;
        return up.code === 255 ? { kind: "not-started", message } : { kind: "lost", message };
      }
      launch = sessionLaunch({ script: "", cwd: options.cwd, token, scriptFile, noStdin });
    }
    const command = remoteCommand(launch.shellText);
    const piped = launch.input !== undefined || !noStdin;

    let slot: { child: ChildProcess; started: () => void };
    try {
      slot = await this.directSlot(
        () => this.spawnSsh(command, { noStdin: !piped }, [piped ? "pipe" : "ignore", "pipe", "pipe"]),
        COMMAND_SLOT_MS,
        options.signal,
      );
    } catch (err) {
      if (options.signal?.aborted) return { kind: "done", result: { exitCode: null, signal: "SIGTERM" } };
      throw err;
    }
    const child = slot.child;

    let pgid: number | undefined;
    let exitStatus: number | undefined;
    let aborted = false;
    const early = new EarlyStderr(options.onStderr);
    let graceTimer: NodeJS.Timeout | undefined;
    let fallbackTimer: NodeJS.Timeout | undefined;
    let killSent = false;

    let errTail = "";
    const forwardErr = (buf: Buffer): void => {
      if (buf.length > 0 && !this.shared) errTail = (errTail + buf.toString("utf8")).slice(-1000);
      early.push(buf);
    };
    const sendKill = (): void => {
      if (killSent || pgid === undefined) return;
      killSent = true;
      void this.killRemote(pgid);
      if (fallbackTimer) clearTimeout(fallbackTimer);
      fallbackTimer = setTimeout(() => killQuietly(child, "SIGKILL"), KILL_FALLBACK_MS);
    };
    const filter = new MarkerFilter(token, (kind, value) => {
      if (kind === "pgid") {
        pgid = value;
        slot.started();
        early.flush();
        if (aborted) sendKill();
      } else if (kind === "exit") {
        exitStatus = value;
        // Background children may keep the channel open; don't wait on them forever.
        graceTimer = setTimeout(() => killQuietly(child, "SIGTERM"), STDIO_GRACE_MS);
      }
    });
    const abort = (): void => {
      if (aborted) return;
      aborted = true;
      if (pgid !== undefined) sendKill();
      // Not started yet: give the wrapper a moment to report its group, then cut the session.
      else fallbackTimer = setTimeout(() => killQuietly(child, "SIGKILL"), KILL_FALLBACK_MS);
    };

    const done = new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      child.once("error", (err) => settle({ kind: "not-started", message: `cannot run ssh: ${err.message}` }));
      child.stdout?.on("data", (chunk: Buffer) => options.onStdout?.(chunk));
      child.stderr?.on("data", (chunk: Buffer) => forwardErr(filter.push(chunk)));
      child.once("close", (code, signal) => {
        forwardErr(filter.end());
        const earlyText = early.text();
        void this.judge({ code, signal, pgid, exitStatus, aborted, earlyText, errTail }).then((o) => {
          // What came before a session that did run is the script's (or the login shell's) output.
          if (o.kind === "done") early.flush();
          settle(o);
        });
      });
    });

    if (piped && child.stdin) feedSession(child.stdin, launch.input, options.stdin);

    return whileRunning(this.running, done, abort, options.signal, () => {
      if (graceTimer) clearTimeout(graceTimer);
      if (fallbackTimer) clearTimeout(fallbackTimer);
    });
  }

  /** Turn how a session ended into a result or a transport failure. */
  private async judge(s: {
    code: number | null;
    signal: NodeJS.Signals | null;
    pgid: number | undefined;
    exitStatus: number | undefined;
    aborted: boolean;
    earlyText: string;
    errTail: string;
  }): Promise<Outcome> {
    if (s.exitStatus !== undefined) return { kind: "done", result: { exitCode: s.exitStatus, signal: null } };
    if (s.aborted) return { kind: "done", result: { exitCode: null, signal: "SIGTERM" } };
    if (s.pgid === undefined) {
      if (s.code !== 255 && s.code !== null) {
        // The command ran but not our wrapper (no /bin/sh?): its status is all there is.
        return { kind: "done", result: { exitCode: s.code, signal: null } };
      }
      const said = this.shared ? firstLines(s.earlyText) : lastLines(s.earlyText);
      return {
        kind: "not-started",
        message: said || `ssh failed (status ${s.code ?? s.signal})`,
        ...(this.shared ? {} : { permanent: PERMANENT.test(s.earlyText) }),
      };
    }
    if (s.code !== 255 && s.code !== null) return { kind: "done", result: { exitCode: s.code, signal: null } };
    // The wrapper started and never reported a status: either the connection
    // went, or the group was killed on the host (the script ran `kill 0`...).
    if (!this.shared) {
      // No master to ask: ssh says so when it lost the connection.
      if (CONNECTION_LOST.test(s.errTail))
        return { kind: "lost", message: `connection lost while a script was running (${lastLines(s.errTail)})` };
      return { kind: "done", result: { exitCode: null, signal: "SIGKILL" } };
    }
    const masterGone = await this.master.waitExit(300);
    if (masterGone) return { kind: "lost", message: `connection lost while a script was running${this.masterReason()}` };
    return { kind: "done", result: { exitCode: null, signal: "SIGKILL" } };
  }

  private masterReason(): string {
    const why = this.masterObj?.lastError;
    return why ? ` (${why})` : "";
  }

  /** Kill process group `pgid` on the host from a separate session. */
  private killRemote(pgid: number): Promise<void> {
    return this.simpleSession(remoteCommand(killGroupScript(pgid)), undefined, 10_000).then(
      () => undefined,
      () => undefined,
    );
  }

  /** A plain session: collects output, no markers, no session slot (used for kills and uploads). */
  private async simpleSession(
    command: string,
    stdin: string | undefined,
    timeoutMs = 60_000,
  ): Promise<{ code: number | null; output: string }> {
    const { child, started } = await this.directSlot(
      () => this.spawnSsh(command, { noStdin: stdin === undefined }, [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]),
      DIRECT_SLOT_MS,
    );
    return new Promise((resolve) => {
      child.stdout?.once("data", started);
      const { take, text: output } = outputCollector();
      child.stdout?.on("data", take);
      child.stderr?.on("data", take);
      const timer = setTimeout(() => killQuietly(child, "SIGKILL"), timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        resolve({ code: null, output: output() + err.message });
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output: output() });
      });
      if (stdin !== undefined && child.stdin) {
        child.stdin.on("error", () => undefined);
        child.stdin.end(stdin);
      }
    });
  }

  private async execInteractive(options: ExecOptions): Promise<ExecResult> {
    await this.ensure(options.signal);
    // The terminal is the script's stdin: the script (and the environment) go to a file first.
    const scriptFile = `/tmp/.troupe-script-${sessionToken()}`;
    const up = await this.simpleSession(remoteCommand(uploadScript(scriptFile)), scriptFileText(scriptFile, options.env, options.script));
    if (up.code !== 0) {
      throw new TroupeError("E_TRANSPORT", `${this.label}: cannot upload the shell's script: ${up.output.trim() || `status ${up.code}`}`);
    }
    const command = remoteCommand(
      interactiveWrapper({ script: "", scriptFile, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) }),
    );
    const child = this.spawnSsh(command, { tty: true }, "inherit");
    const onAbort = (): void => killQuietly(child, "SIGTERM");
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (c, s) => resolve([c, s]));
      });
      if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
      if (code === 255 && this.shared && (await this.master.waitExit(300))) {
        throw new TroupeError("E_TRANSPORT", `${this.label}: connection lost during an interactive session${this.masterReason()}`);
      }
      return { exitCode: code, signal };
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  async put(tar: Readable, dir: string): Promise<void> {
    this.checkOpen();
    const release = await this.sessions.acquire();
    try {
      await this.ensure();
      const { peek } = await import("../peek.js");
      const { head, rest } = await peek(tar, 2);
      const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      const { child } = await this.directSlot(
        () => this.spawnSsh(remoteCommand(putScript(dir, gzip)), {}, ["pipe", "pipe", "pipe"]),
        DIRECT_SLOT_MS,
      );
      const { take, text } = outputCollector();
      child.stdout?.on("data", take);
      child.stderr?.on("data", take);
      const exited = new Promise<number | null>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code) => resolve(code));
      });
      const sent = pipeline(rest, child.stdin!).catch((err: unknown) => err);
      const [code, sendError] = await Promise.all([exited, sent]);
      if (code === 255)
        throw new TroupeError("E_TRANSPORT", `${this.label}: cannot send files to ${dir}: ${firstLines(text()) || "ssh failed"}`);
      if (code !== 0)
        throw new Error(`${this.label}: cannot unpack files into ${dir}: ${firstLines(text()) || `tar exited with status ${code}`}`);
      if (sendError instanceof Error) throw new Error(`${this.label}: cannot send files to ${dir}: ${sendError.message}`);
    } finally {
      release();
    }
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    this.checkOpen();
    const command = remoteCommand(getScript(dir, paths));
    const release = await this.sessions.acquire();
    let child: ChildProcess;
    try {
      await this.ensure();
      const slot = await this.directSlot(() => this.spawnSsh(command, { noStdin: true }, ["ignore", "pipe", "pipe"]), DIRECT_SLOT_MS);
      child = slot.child;
      child.stdout?.once("data", slot.started);
    } catch (err) {
      release();
      throw err;
    }
    const out = new PassThrough();
    const err = outputCollector();
    child.stderr?.on("data", err.take);
    child.stdout?.pipe(out, { end: false });
    const finish = (err?: Error): void => {
      release();
      if (err) out.destroy(err);
      else out.end();
    };
    child.once("error", (err) => finish(err));
    child.once("close", (code) => {
      if (code === 0) finish();
      else if (code === 255)
        finish(new TroupeError("E_TRANSPORT", `${this.label}: cannot fetch files from ${dir}: ${firstLines(err.text()) || "ssh failed"}`));
      else
        finish(
          new Error(
            `${this.label}: cannot pack ${paths.join(", ")} in ${dir}: ${firstLines(err.text()) || `tar exited with status ${code}`}`,
          ),
        );
    });
    return out;
  }

  /**
   * Kill running scripts and drop the connection, but stay usable: the next
   * call connects again (after a reboot, say).
   */
  async reset(): Promise<void> {
    await killAll(this.running, KILL_FALLBACK_MS + 1000);
    if (this.loopRunner) (await this.loopRunner).close();
    await this.masterObj?.exit();
  }

  /** Kill running scripts and drop the connection for good. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reset();
  }

  /** user@host:port, for messages. */
  private where(): string {
    const t = this.target;
    return `${t.user ? `${t.user}@` : ""}${t.host}${t.port ? `:${t.port}` : ""}`;
  }

  private checkOpen(): void {
    if (this.closed) throw new TroupeError("E_TRANSPORT", `${this.label}: the connection was closed`);
  }
}
