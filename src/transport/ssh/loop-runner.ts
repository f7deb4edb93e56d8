// Plain commands through a host's command session (command-session.ts), for
// both SSH transports: which loop takes a command, how an abort reaches it,
// and what its end means. A command the loop cannot take (too long, the loop
// busy or refusing) is left to the caller, who gives it a session of its own.

import type { ExecOptions, ExecResult } from "../transport.js";
import { CommandSession, type LoopPipe } from "./command-session.js";
import { sessionToken, sessionWrapper } from "./remote.js";
import type { Running } from "./session-parts.js";

/** Wrappers longer than this get a session of their own (the loop reads them a byte at a time). */
const MAX_LOOP_COMMAND = 8 * 1024;
/** After asking the host to kill a group, how long before the whole loop is dropped. */
const KILL_FALLBACK_MS = 5000;

export type LoopResult =
  | { readonly kind: "done"; readonly result: ExecResult }
  /** Nothing ran: trying again is safe. */
  | { readonly kind: "not-started"; readonly message: string }
  | { readonly kind: "lost"; readonly message: string };

/** What the runner needs of its transport. */
export interface LoopHost {
  /** Start commandLoop() on the host; undefined when no session can be had now. */
  openLoop(): LoopPipe | undefined | Promise<LoopPipe | undefined>;
  /** Kill process group `pgid` on the host from another session. */
  killRemote(pgid: number): Promise<void>;
  /** Whether the connection is gone, after waiting up to `ms` for it to go; with why (" (reason)" or ""). */
  connectionGone(ms: number): Promise<{ gone: boolean; why: string }>;
  /** The transport's running sessions, which reset() kills. */
  readonly running: Set<Running>;
}

export class LoopRunner {
  private loop: CommandSession | undefined;
  private opening = false;
  /** The host cannot run the loop (no setsid): every command gets a session. */
  private noLoop = false;

  constructor(
    private readonly host: LoopHost,
    private readonly idleMs: number,
  ) {}

  /** Run a plain command in the loop; undefined when it cannot take it. */
  async run(options: ExecOptions): Promise<LoopResult | undefined> {
    if (this.noLoop || this.opening) return undefined;
    const token = sessionToken();
    const text = sessionWrapper({ script: options.script, env: options.env, cwd: options.cwd, token, noStdin: true });
    if (text.length > MAX_LOOP_COMMAND) return undefined;
    if (!this.loop?.ready) {
      // Busy with another command: that one keeps it. Ended (or none yet): start one.
      if (this.loop?.alive) return undefined;
      this.opening = true;
      let pipe: LoopPipe | undefined;
      try {
        pipe = await this.host.openLoop();
      } finally {
        this.opening = false;
      }
      if (!pipe) return undefined;
      this.loop = new CommandSession(pipe, this.idleMs);
    }
    const loop = this.loop;
    let aborted = false;
    let killSent = false;
    let fallback: NodeJS.Timeout | undefined;
    const sendKill = (): void => {
      const pgid = loop.pgid;
      if (killSent || pgid === undefined) return;
      killSent = true;
      void this.host.killRemote(pgid);
    };
    const abort = (): void => {
      if (aborted) return;
      aborted = true;
      sendKill();
      // Not killed in time (or not started yet): drop the whole loop, and the session with it.
      fallback = setTimeout(() => loop.close(), KILL_FALLBACK_MS);
    };
    let resolveDone: (v: unknown) => void = () => undefined;
    const entry: Running = { kill: abort, done: new Promise((r) => (resolveDone = r)) };
    this.host.running.add(entry);
    const onAbort = (): void => abort();
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const o = await loop.run({
        token,
        text,
        ...(options.onStdout ? { onStdout: options.onStdout } : {}),
        ...(options.onStderr ? { onStderr: options.onStderr } : {}),
        // An abort that came before the group was known can kill it now.
        onStart: () => {
          if (aborted) sendKill();
        },
      });
      if (aborted) sendKill();
      switch (o.kind) {
        case "refused":
          if (!o.setsid) this.noLoop = true;
          if (this.loop === loop) this.loop = undefined;
          return aborted ? { kind: "done", result: { exitCode: null, signal: "SIGTERM" } } : undefined;
        case "done":
          if (o.exitStatus !== undefined) return { kind: "done", result: { exitCode: o.exitStatus, signal: null } };
          return { kind: "done", result: { exitCode: null, signal: aborted ? "SIGTERM" : "SIGKILL" } };
        case "broken": {
          if (this.loop === loop) this.loop = undefined;
          if (aborted) return { kind: "done", result: { exitCode: null, signal: "SIGTERM" } };
          if (!o.started) return { kind: "not-started", message: o.message };
          const { gone, why } = await this.host.connectionGone(300);
          if (gone) return { kind: "lost", message: `connection lost while a script was running${why}` };
          return { kind: "done", result: { exitCode: null, signal: "SIGKILL" } };
        }
      }
    } finally {
      if (fallback) clearTimeout(fallback);
      options.signal?.removeEventListener("abort", onAbort);
      this.host.running.delete(entry);
      resolveDone(undefined);
    }
  }

  /**
   * Through the loop while `route.viaLoop` holds and the loop takes the
   * command; otherwise through `own`, a session of its own. A loop that did
   * not take it, or broke before it started, sets `route.viaLoop` false, so
   * that a retry goes straight to a session of its own.
   */
  async runOr<O>(options: ExecOptions, route: { viaLoop: boolean }, own: () => Promise<O>): Promise<O | LoopResult> {
    if (route.viaLoop) {
      const o = await this.run(options);
      if (o !== undefined && o.kind !== "not-started") return o;
      route.viaLoop = false;
    }
    return own();
  }

  /** End the loop, if any; the next command starts another. */
  close(): void {
    this.loop?.close();
    this.loop = undefined;
  }
}
