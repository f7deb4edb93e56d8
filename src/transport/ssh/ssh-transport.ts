// The OpenSSH transport: one ControlMaster connection per host, every script,
// upload and download a session multiplexed over it. See remote.ts for what
// runs on the host and master.ts for the connection itself.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../../util/errors.js";
import type { ExecOptions, ExecResult, Transport } from "../transport.js";
import { sessionArgs, type SshTarget } from "./args.js";
import { handshakeLimiter, Semaphore } from "./limiter.js";
import { MarkerFilter } from "./markers.js";
import { killQuietly, Master } from "./master.js";
import { getScript, interactiveWrapper, killGroupScript, putScript, remoteCommand, sessionWrapper, uploadScript } from "./remote.js";

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
}

/** Commands longer than this are not sent inline (a single argument may not exceed 128 KiB on Linux). */
const MAX_INLINE = 100_000;
/** After the wrapper reports the exit status, how long background children may hold the output open. */
const STDIO_GRACE_MS = 2000;
/** After asking the host to kill a group, how long before the local ssh is killed regardless. */
const KILL_FALLBACK_MS = 5000;
/** Stderr kept back until the session is known to have started. */
const MAX_EARLY_STDERR = 64 * 1024;

type Outcome =
  | { readonly kind: "done"; readonly result: ExecResult }
  /** The wrapper never reported in: nothing ran, so trying again is safe. */
  | { readonly kind: "not-started"; readonly message: string }
  | { readonly kind: "lost"; readonly message: string };

interface Running {
  /** Kill the remote process group (as an abort does). */
  kill(): void;
  readonly done: Promise<unknown>;
}

export class SshTransport implements Transport {
  readonly label: string;
  private readonly target: SshTarget;
  private readonly master: Master;
  private readonly sessions: Semaphore;
  private readonly running = new Set<Running>();
  private closed = false;

  constructor(private readonly o: SshTransportOptions) {
    this.label = o.label ?? o.host;
    this.target = { ...o, withPassword: o.password !== undefined };
    this.master = new Master({
      target: this.target,
      label: this.label,
      limiter: o.handshakes ?? handshakeLimiter,
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.connectAttempts !== undefined ? { attempts: o.connectAttempts } : {}),
      ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
      ...(o.ssh !== undefined ? { ssh: o.ssh } : {}),
    });
    this.sessions = new Semaphore(o.maxSessions ?? 8);
  }

  /** The master's pid while connected. */
  get masterPid(): number | undefined {
    return this.master.pid;
  }

  get connected(): boolean {
    return this.master.alive;
  }

  /** Open the master connection now rather than on first use. */
  async connect(signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    await this.master.ensure(signal);
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
      for (let n = 1; ; n++) {
        if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
        try {
          await this.master.ensure(options.signal);
        } catch (err) {
          // Aborted before anything ran: the script was killed, in effect.
          if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
          throw err;
        }
        const outcome = await this.runSession(options);
        if (outcome.kind === "done") return outcome.result;
        if (outcome.kind === "lost" || !replayable || n >= attempts) {
          throw new TroupeError("E_TRANSPORT", `${this.label}: ${outcome.message}`);
        }
        await sleep(pause);
        pause *= 2;
      }
    } finally {
      release();
    }
  }

  private async runSession(options: ExecOptions): Promise<Outcome> {
    const token = randomBytes(6).toString("hex");
    let command = remoteCommand(sessionWrapper({ script: options.script, env: options.env, cwd: options.cwd, token }));
    if (command.length > MAX_INLINE) {
      const scriptFile = `/tmp/.troupe-script-${token}`;
      const up = await this.simpleSession(remoteCommand(uploadScript(scriptFile)), options.script);
      if (up.code !== 0) {
        const message = `cannot upload a ${options.script.length}-byte script: ${up.output.trim() || `status ${up.code}`}`;
        return up.code === 255 ? { kind: "not-started", message } : { kind: "lost", message };
      }
      command = remoteCommand(sessionWrapper({ script: "", env: options.env, cwd: options.cwd, token, scriptFile }));
    }

    const child = spawn(this.o.ssh ?? "ssh", sessionArgs(this.target, this.master.controlPath, command, { noStdin: options.stdin === undefined }), {
      detached: true, // a Ctrl-C on the terminal must not cut sessions; troupe kills them itself
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });

    let pgid: number | undefined;
    let exitStatus: number | undefined;
    let aborted = false;
    let early: Buffer[] | undefined = [];
    let earlySize = 0;
    let graceTimer: NodeJS.Timeout | undefined;
    let fallbackTimer: NodeJS.Timeout | undefined;
    let killSent = false;

    const forwardErr = (buf: Buffer): void => {
      if (buf.length === 0) return;
      if (early) {
        early.push(buf);
        earlySize += buf.length;
        if (earlySize > MAX_EARLY_STDERR) flushEarly();
        return;
      }
      options.onStderr?.(buf);
    };
    const flushEarly = (): void => {
      const held = early;
      early = undefined;
      for (const b of held ?? []) options.onStderr?.(b);
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
        flushEarly();
        if (aborted) sendKill();
      } else {
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
        const earlyText = early ? Buffer.concat(early).toString("utf8") : "";
        void this.judge({ code, signal, pgid, exitStatus, aborted, earlyText }).then((o) => {
          // What came before a session that did run is the script's (or the login shell's) output.
          if (o.kind === "done") flushEarly();
          settle(o);
        });
      });
    });

    if (options.stdin !== undefined && child.stdin) {
      const sink = child.stdin;
      sink.on("error", () => {
        /* the script may exit without reading its input */
      });
      if (typeof options.stdin === "string" || Buffer.isBuffer(options.stdin)) sink.end(options.stdin);
      else options.stdin.pipe(sink);
    }

    const entry: Running = { kill: abort, done };
    this.running.add(entry);
    const onAbort = (): void => abort();
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await done;
    } finally {
      this.running.delete(entry);
      options.signal?.removeEventListener("abort", onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      if (fallbackTimer) clearTimeout(fallbackTimer);
    }
  }

  /** Turn how a session ended into a result or a transport failure. */
  private async judge(s: {
    code: number | null;
    signal: NodeJS.Signals | null;
    pgid: number | undefined;
    exitStatus: number | undefined;
    aborted: boolean;
    earlyText: string;
  }): Promise<Outcome> {
    if (s.exitStatus !== undefined) return { kind: "done", result: { exitCode: s.exitStatus, signal: null } };
    if (s.aborted) return { kind: "done", result: { exitCode: null, signal: "SIGTERM" } };
    if (s.pgid === undefined) {
      if (s.code !== 255 && s.code !== null) {
        // The command ran but not our wrapper (no /bin/sh?): its status is all there is.
        return { kind: "done", result: { exitCode: s.code, signal: null } };
      }
      return { kind: "not-started", message: firstLines(s.earlyText) || `ssh failed (status ${s.code ?? s.signal})` };
    }
    if (s.code !== 255 && s.code !== null) return { kind: "done", result: { exitCode: s.code, signal: null } };
    // The wrapper started and never reported a status: either the connection
    // went, or the group was killed on the host (the script ran `kill 0`...).
    const masterGone = await this.master.waitExit(300);
    if (masterGone) return { kind: "lost", message: `connection lost while a script was running${this.masterReason()}` };
    return { kind: "done", result: { exitCode: null, signal: "SIGKILL" } };
  }

  private masterReason(): string {
    const why = this.master.lastError;
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
  private simpleSession(command: string, stdin: string | undefined, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(this.o.ssh ?? "ssh", sessionArgs(this.target, this.master.controlPath, command, { noStdin: stdin === undefined }), {
        detached: true,
        stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      let output = "";
      const take = (b: Buffer): void => {
        if (output.length < 8192) output += b.toString("utf8");
      };
      child.stdout?.on("data", take);
      child.stderr?.on("data", take);
      const timer = setTimeout(() => killQuietly(child, "SIGKILL"), timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        resolve({ code: null, output: err.message });
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
      if (stdin !== undefined && child.stdin) {
        child.stdin.on("error", () => undefined);
        child.stdin.end(stdin);
      }
    });
  }

  private async execInteractive(options: ExecOptions): Promise<ExecResult> {
    await this.master.ensure(options.signal);
    const command = remoteCommand(interactiveWrapper({ script: options.script, env: options.env, cwd: options.cwd }));
    const child = spawn(this.o.ssh ?? "ssh", sessionArgs(this.target, this.master.controlPath, command, { tty: true }), { stdio: "inherit" });
    const onAbort = (): void => killQuietly(child, "SIGTERM");
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (c, s) => resolve([c, s]));
      });
      if (options.signal?.aborted) return { exitCode: null, signal: "SIGTERM" };
      if (code === 255 && (await this.master.waitExit(300))) {
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
      await this.master.ensure();
      const { head, rest } = await peek(tar, 2);
      const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      const child = spawn(this.o.ssh ?? "ssh", sessionArgs(this.target, this.master.controlPath, remoteCommand(putScript(dir, gzip))), {
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
      let output = "";
      const take = (b: Buffer): void => {
        if (output.length < 8192) output += b.toString("utf8");
      };
      child.stdout?.on("data", take);
      child.stderr?.on("data", take);
      const exited = new Promise<number | null>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code) => resolve(code));
      });
      const sent = pipeline(rest, child.stdin!).catch((err: unknown) => err);
      const [code, sendError] = await Promise.all([exited, sent]);
      if (code === 255) throw new TroupeError("E_TRANSPORT", `${this.label}: cannot send files to ${dir}: ${firstLines(output) || "ssh failed"}`);
      if (code !== 0) throw new Error(`${this.label}: cannot unpack files into ${dir}: ${firstLines(output) || `tar exited with status ${code}`}`);
      if (sendError instanceof Error) throw new Error(`${this.label}: cannot send files to ${dir}: ${sendError.message}`);
    } finally {
      release();
    }
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    this.checkOpen();
    const command = remoteCommand(getScript(dir, paths));
    const release = await this.sessions.acquire();
    try {
      await this.master.ensure();
    } catch (err) {
      release();
      throw err;
    }
    const child = spawn(this.o.ssh ?? "ssh", sessionArgs(this.target, this.master.controlPath, command, { noStdin: true }), {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = new PassThrough();
    let errText = "";
    child.stderr?.on("data", (b: Buffer) => {
      if (errText.length < 8192) errText += b.toString("utf8");
    });
    child.stdout?.pipe(out, { end: false });
    const finish = (err?: Error): void => {
      release();
      if (err) out.destroy(err);
      else out.end();
    };
    child.once("error", (err) => finish(err));
    child.once("close", (code) => {
      if (code === 0) finish();
      else if (code === 255) finish(new TroupeError("E_TRANSPORT", `${this.label}: cannot fetch files from ${dir}: ${firstLines(errText) || "ssh failed"}`));
      else finish(new Error(`${this.label}: cannot pack ${paths.join(", ")} in ${dir}: ${firstLines(errText) || `tar exited with status ${code}`}`));
    });
    return out;
  }

  /**
   * Kill running scripts and drop the connection, but stay usable: the next
   * call connects again (after a reboot, say).
   */
  async reset(): Promise<void> {
    const running = [...this.running];
    for (const r of running) r.kill();
    if (running.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<void>((r) => (timer = setTimeout(r, KILL_FALLBACK_MS + 1000)));
      await Promise.race([Promise.allSettled(running.map((r) => r.done)), cap]);
      clearTimeout(timer);
    }
    await this.master.exit();
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

/** Read at least `n` bytes (or all there is) and give back a stream that still starts with them. */
async function peek(src: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    size += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    }
  }
  return { head, rest: Readable.from(all(), { objectMode: false }) };
}

function firstLines(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(0, 3)
    .join("; ");
}

