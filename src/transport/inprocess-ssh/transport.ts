// The in-process SSH transport: one connection per host held by troupe's own
// process (connection.ts), every script, upload and download a channel on it.
// No `ssh` process is started per host or per command, which is what a fleet
// of hosts on one machine spends most of its CPU on: an OpenSSH client costs
// about 10 ms of CPU to start and connect, this about 3 ms.
//
// What runs on the host is the OpenSSH transport's (../ssh/remote.ts): the
// session wrapper reports the script's process group on stderr, so that an
// abort kills the whole group from a second channel. The exit status comes
// from the channel itself, so there is no confusing a script's 255 with a
// failed connection.
//
// Interactive sessions (-shell, -debug) need the user's terminal: they go
// through the `interactive` transport (OpenSSH) given by the caller.

import { randomBytes } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../../util/errors.js";
import { firstLines } from "../messages.js";
import { peek } from "../peek.js";
import { handshakeLimiter, Semaphore } from "../ssh/limiter.js";
import { MarkerFilter } from "../ssh/markers.js";
import { EarlyStderr, feedSession, killAll, outputCollector, whileRunning, type Running } from "../ssh/session-parts.js";
import type { LoopPipe } from "../ssh/command-session.js";
import { LoopRunner, type LoopResult } from "../ssh/loop-runner.js";
import {
  commandLoop,
  getScript,
  killGroupScript,
  putScript,
  remoteCommand,
  scriptFileText,
  sessionLaunch,
  uploadScript,
} from "../ssh/remote.js";
import type { ExecOptions, ExecResult, Transport } from "../transport.js";
import { Connection, type ConnectAttempt, type InProcessTarget, type Session } from "./connection.js";
import { errorText } from "../../util/text.js";

export interface InProcessSshOptions extends InProcessTarget {
  /** For messages; the host by default. */
  readonly label?: string;
  /** Bounds connection setup; the process-wide `handshakeLimiter` by default. */
  readonly handshakes?: Semaphore;
  /** Sessions at once on this host (default 8; kills bypass this). */
  readonly maxSessions?: number;
  /**
   * Connection attempts at most (default 3), the first pause between them
   * (default 250 ms, doubling), and the time after which no new attempt is
   * made (default 10 s); see connection.ts for what is retried. A session
   * that could not be started is retried as often, with the same pauses.
   */
  readonly connectAttempts?: number;
  readonly backoffMs?: number;
  readonly retryForMs?: number;
  /** Told of every failed connection attempt (for progress messages, and tests). */
  readonly onConnectFailed?: (f: ConnectAttempt) => void;
  /** Runs interactive sessions (they need a terminal); without it they are refused. */
  readonly interactive?: () => Transport;
  /**
   * Run plain commands (no stdin, a few KiB at most) one after another in
   * one long-lived session, as the OpenSSH transport's option of that name
   * does: a command is then a write to a pipe and a fork on the host, not a
   * new session and login shell. Off by default.
   */
  readonly commandSession?: boolean;
}

/** Scripts longer than this are uploaded to a file first (the wrapper on stdin is read a byte at a time). */
const MAX_INLINE = 100_000;
/** A command session nobody used for this long is closed (the connection stays). */
const LOOP_IDLE_MS = 60_000;
/** After the script exited, how long background children may hold the output open. */
const STDIO_GRACE_MS = 2000;
/** After asking the host to kill a group, how long before the channel is closed regardless. */
const KILL_FALLBACK_MS = 5000;

const KILLED: ExecResult = { exitCode: null, signal: "SIGTERM" };

export class InProcessSshTransport implements Transport {
  readonly label: string;
  private readonly conn: Connection;
  private readonly sessions: Semaphore;
  private readonly running = new Set<Running>();
  private closed = false;
  private terminal: Transport | undefined;
  private readonly loop: LoopRunner;

  constructor(private readonly o: InProcessSshOptions) {
    this.label = o.label ?? o.host;
    this.conn = new Connection({
      target: o,
      label: this.label,
      limiter: o.handshakes ?? handshakeLimiter,
      ...(o.connectAttempts !== undefined ? { attempts: o.connectAttempts } : {}),
      ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
      ...(o.retryForMs !== undefined ? { retryForMs: o.retryForMs } : {}),
      ...(o.onConnectFailed ? { onFailed: o.onConnectFailed } : {}),
    });
    this.sessions = new Semaphore(o.maxSessions ?? 8);
    this.loop = new LoopRunner(
      {
        openLoop: async () => {
          const session = await this.channel(remoteCommand(commandLoop()));
          return "failed" in session ? undefined : channelPipe(session);
        },
        killRemote: (pgid) => this.killGroup(pgid),
        connectionGone: async (ms) => ({ gone: await this.conn.waitGone(ms), why: this.lostReason() }),
        running: this.running,
      },
      LOOP_IDLE_MS,
    );
  }

  get connected(): boolean {
    return this.conn.alive;
  }

  /** Connect now rather than on first use. */
  async connect(signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    await this.conn.ensure(signal);
  }

  async exec(options: ExecOptions): Promise<ExecResult> {
    this.checkOpen();
    if (options.interactive) return this.execInteractive(options);
    let release: () => void;
    try {
      release = await this.sessions.acquire(options.signal);
    } catch (err) {
      if (options.signal?.aborted) return KILLED;
      throw err;
    }
    try {
      const replayable = options.stdin === undefined || typeof options.stdin === "string" || Buffer.isBuffer(options.stdin);
      const attempts = Math.max(1, this.o.connectAttempts ?? 3);
      let pause = this.o.backoffMs ?? 500;
      const route = { viaLoop: this.o.commandSession === true && options.stdin === undefined };
      for (let n = 1; ; n++) {
        if (options.signal?.aborted) return KILLED;
        try {
          await this.conn.ensure(options.signal);
        } catch (err) {
          if (options.signal?.aborted) return KILLED;
          throw err;
        }
        const outcome = await this.loop.runOr(options, route, () => this.runSession(options));
        if (outcome.kind === "done") return outcome.result;
        if (outcome.kind === "lost" || !replayable || n >= attempts)
          throw new TroupeError("E_TRANSPORT", `${this.label}: ${outcome.message}`);
        await sleep(pause);
        pause *= 2;
      }
    } finally {
      release();
    }
  }

  /** A session running `command`, or why none could be opened. */
  private async channel(command: string): Promise<Session | { failed: string }> {
    try {
      return await this.conn.exec(command);
    } catch (err) {
      return { failed: `cannot start a session: ${errorText(err)}` };
    }
  }

  private async runSession(options: ExecOptions): Promise<LoopResult> {
    const token = randomBytes(6).toString("hex");
    const noStdin = options.stdin === undefined;
    let launch = sessionLaunch({ env: options.env, cwd: options.cwd, token, noStdin, script: options.script });
    if (options.script.length > MAX_INLINE) {
      const scriptFile = `/tmp/.troupe-script-${token}`;
      const up = await this.simple(remoteCommand(uploadScript(scriptFile)), scriptFileText(scriptFile, options.env, options.script));
      if (up.code !== 0) {
        const message = `cannot upload a ${options.script.length}-byte script: ${up.output.trim() || `status ${up.code}`}`;
        return up.code === null ? { kind: "not-started", message } : { kind: "lost", message };
      }
      launch = sessionLaunch({ cwd: options.cwd, token, noStdin, script: "", scriptFile });
    }
    const session = await this.channel(remoteCommand(launch.shellText));
    if ("failed" in session) return { kind: "not-started", message: session.failed };
    const ch = session.channel;

    let pgid: number | undefined;
    let aborted = false;
    let killSent = false;
    const early = new EarlyStderr(options.onStderr);
    let graceTimer: NodeJS.Timeout | undefined;
    let fallbackTimer: NodeJS.Timeout | undefined;
    const closeSoon = (ms: number): NodeJS.Timeout => setTimeout(() => ch.close(), ms);
    const sendKill = (): void => {
      if (killSent || pgid === undefined) return;
      killSent = true;
      void this.killGroup(pgid);
      fallbackTimer ??= closeSoon(KILL_FALLBACK_MS);
    };
    const filter = new MarkerFilter(token, (kind, value) => {
      if (kind === "pgid") {
        pgid = value;
        early.flush();
        if (aborted) sendKill();
      }
    });
    const abort = (): void => {
      if (aborted) return;
      aborted = true;
      if (pgid !== undefined) sendKill();
      // Not started yet: give the wrapper a moment to report its group, then drop the session.
      else fallbackTimer ??= closeSoon(KILL_FALLBACK_MS);
    };

    const done = new Promise<LoopResult>((resolve) => {
      ch.on("data", (chunk: Buffer) => options.onStdout?.(chunk));
      ch.stderr.on("data", (chunk: Buffer) => early.push(filter.push(chunk)));
      void session.exited.then((status) => {
        // Background children may keep the output open; don't wait on them forever.
        if (status) graceTimer = closeSoon(STDIO_GRACE_MS);
      });
      void session.closed.then(async (status) => {
        early.push(filter.end());
        const exit = status && { exitCode: status.exitCode, signal: status.signal as NodeJS.Signals | null };
        const o = await this.judge(exit, pgid, aborted);
        if (o.kind === "done") early.flush();
        resolve(o);
      });
    });

    feedSession(ch, launch.input, options.stdin);

    return whileRunning(this.running, done, abort, options.signal, () => {
      if (graceTimer) clearTimeout(graceTimer);
      if (fallbackTimer) clearTimeout(fallbackTimer);
    });
  }

  /** Turn how a session ended into a result or a transport failure. */
  private async judge(exit: ExecResult | undefined, pgid: number | undefined, aborted: boolean): Promise<LoopResult> {
    if (exit) return { kind: "done", result: aborted && exit.exitCode === null ? KILLED : exit };
    if (aborted) return { kind: "done", result: KILLED };
    // No status: the channel was closed under the script, by the host or by the connection going.
    const gone = await this.conn.waitGone(300);
    if (pgid === undefined)
      return {
        kind: "not-started",
        message: `the session ended before the script started${gone ? `: ${this.conn.lastError ?? "connection lost"}` : ""}`,
      };
    if (gone) return { kind: "lost", message: `connection lost while a script was running (${this.conn.lastError ?? "closed"})` };
    return { kind: "done", result: { exitCode: null, signal: "SIGKILL" } };
  }

  /** Kill process group `pgid` on the host from a channel of its own. */
  private async killGroup(pgid: number): Promise<void> {
    await this.simple(remoteCommand(killGroupScript(pgid)), undefined, 10_000);
  }

  /** A plain session, no markers, no session slot (kills and uploads): its status and some of its output. */
  private async simple(command: string, stdin: string | undefined, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
    const session = await this.channel(command);
    if ("failed" in session) return { code: null, output: session.failed };
    const ch = session.channel;
    const { take, text } = outputCollector();
    ch.on("data", take);
    ch.stderr.on("data", take);
    ch.on("error", () => undefined);
    const timer = setTimeout(() => ch.close(), timeoutMs);
    ch.end(stdin);
    const status = await session.closed;
    clearTimeout(timer);
    return { code: status?.exitCode ?? null, output: text() };
  }

  private async execInteractive(options: ExecOptions): Promise<ExecResult> {
    if (!this.o.interactive) throw new TroupeError("E_TRANSPORT", `${this.label}: this transport cannot run an interactive session`);
    this.terminal ??= this.o.interactive();
    return this.terminal.exec(options);
  }

  async put(tar: Readable, dir: string): Promise<void> {
    this.checkOpen();
    const release = await this.sessions.acquire();
    try {
      await this.conn.ensure();
      const { head, rest } = await peek(tar, 2);
      const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      const session = await this.channel(remoteCommand(putScript(dir, gzip)));
      if ("failed" in session) throw new TroupeError("E_TRANSPORT", `${this.label}: cannot send files to ${dir}: ${session.failed}`);
      const ch = session.channel;
      let sendError: Error | undefined;
      const { take, text } = outputCollector();
      ch.on("data", take);
      ch.stderr.on("data", take);
      ch.on("error", () => undefined);
      rest.on("error", (err) => {
        sendError = err;
        ch.close();
      });
      rest.pipe(ch);
      const code = (await session.closed)?.exitCode ?? null;
      if (sendError) throw new Error(`${this.label}: cannot send files to ${dir}: ${sendError.message}`);
      if (code === null)
        throw new TroupeError("E_TRANSPORT", `${this.label}: cannot send files to ${dir}: the session ended early${this.lostReason()}`);
      if (code !== 0)
        throw new Error(`${this.label}: cannot unpack files into ${dir}: ${firstLines(text()) || `tar exited with status ${code}`}`);
    } finally {
      release();
    }
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    this.checkOpen();
    const command = remoteCommand(getScript(dir, paths));
    const release = await this.sessions.acquire();
    let session: Session;
    try {
      await this.conn.ensure();
      const opened = await this.channel(command);
      if ("failed" in opened) throw new TroupeError("E_TRANSPORT", `${this.label}: cannot fetch files from ${dir}: ${opened.failed}`);
      session = opened;
    } catch (err) {
      release();
      throw err;
    }
    const ch = session.channel;
    ch.end();
    const out = new PassThrough();
    const err = outputCollector();
    ch.stderr.on("data", err.take);
    ch.pipe(out, { end: false });
    void session.closed.then((status) => {
      const code = status?.exitCode ?? null;
      release();
      if (code === 0) out.end();
      else if (code === null)
        out.destroy(
          new TroupeError("E_TRANSPORT", `${this.label}: cannot fetch files from ${dir}: the session ended early${this.lostReason()}`),
        );
      else
        out.destroy(
          new Error(
            `${this.label}: cannot pack ${paths.join(", ")} in ${dir}: ${firstLines(err.text()) || `tar exited with status ${code}`}`,
          ),
        );
    });
    return out;
  }

  private lostReason(): string {
    return this.conn.alive ? "" : ` (${this.conn.lastError ?? "connection lost"})`;
  }

  /**
   * Kill running scripts and drop the connection, but stay usable: the next
   * call connects again (after a reboot, say).
   */
  async reset(): Promise<void> {
    await killAll(this.running, KILL_FALLBACK_MS + 1000);
    this.loop.close();
    this.conn.end();
    await this.terminal?.close();
    this.terminal = undefined;
  }

  /** Kill running scripts and drop the connection for good. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reset();
  }

  private checkOpen(): void {
    if (this.closed) throw new TroupeError("E_TRANSPORT", `${this.label}: the connection was closed`);
  }
}

/** The command loop on a channel: its input, output and error streams, ended by closing it. */
function channelPipe(session: Session): LoopPipe {
  const ch = session.channel;
  return {
    stdin: ch,
    stdout: ch,
    stderr: ch.stderr,
    onEnd: (cb) =>
      void session.closed.then((status) => cb(`the command session ended (${status?.exitCode ?? status?.signal ?? "closed"})`)),
    stop: () => {
      ch.end();
      ch.close();
    },
    // The connection, not the session, decides whether the process stays up.
    ref: () => undefined,
  };
}
