// One long-lived session on a host's master connection that runs plain
// commands one after another (see commandLoop() in remote.ts). A command
// sent here costs a write to a pipe and a fork on the host; a new session
// costs an `ssh` client process here (its start-up, its handshake with the
// master) and a new session and login shell on the host: about 10 ms of CPU
// against 2, which is what a fan-out over hosts already connected pays.
//
// Each command still runs as the session wrapper (pgid and exit markers, its
// own process group and session through setsid), so it is killed, reported
// and isolated as on a session of its own. The loop marks the end of each
// command on stdout and stderr (`done`), so both streams are known complete.
// A command that leaves processes behind (they may hold the session's
// output) retires the session: the loop refuses the next command (`busy`),
// which then runs on a session of its own, and a new loop starts later.

import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { MarkerFilter } from "./markers.js";
import { loopRequest } from "./remote.js";

/** Stderr held back until the command is known to have started. */
const MAX_EARLY_STDERR = 64 * 1024;

export interface LoopCommand {
  /** The session wrapper's token (markers). */
  readonly token: string;
  /** The session wrapper (sessionWrapper()), as sent to a session of its own. */
  readonly text: string;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /** The wrapper reported its process group: the command runs. */
  readonly onStart?: (pgid: number) => void;
}

export type LoopOutcome =
  /** The loop could not take the command; nothing ran. `setsid: false`: the host has no setsid. */
  | { readonly kind: "refused"; readonly setsid: boolean; readonly message: string }
  /** The command ran to its end: `exitStatus` is the wrapper's report (none: the wrapper was killed). */
  | { readonly kind: "done"; readonly exitStatus: number | undefined }
  /** The session ended under the command; `started` if the wrapper had reported its group. */
  | { readonly kind: "broken"; readonly started: boolean; readonly message: string };

interface Current {
  readonly cmd: LoopCommand;
  readonly out: MarkerFilter;
  readonly err: MarkerFilter;
  pgid: number | undefined;
  exitStatus: number | undefined;
  outDone: boolean;
  errDone: boolean;
  early: Buffer[] | undefined;
  earlySize: number;
  readonly settle: (o: LoopOutcome) => void;
}

/** Where the loop runs: an `ssh` process, or a channel of the in-process client. */
export interface LoopPipe {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Call `cb` once, when the session has ended, with why. */
  onEnd(cb: (why: string) => void): void;
  /** End the session without waiting: a command's leftovers may hold it open. */
  stop(): void;
  /** Whether it keeps the orchestrator's process alive. */
  ref(on: boolean): void;
}

/** The loop in an `ssh` process running commandLoop(), its stdio piped. */
export function childPipe(child: ChildProcess): LoopPipe {
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    onEnd: (cb) => {
      child.once("error", (err) => cb(`cannot run ssh: ${err.message}`));
      child.once("close", (code, signal) => cb(`the command session ended (${code ?? signal})`));
    },
    stop: () => {
      child.stdin?.end();
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        child.kill("SIGTERM");
      } catch {
        /* gone already */
      }
    },
    ref: (on) => {
      const all = [child, child.stdin, child.stdout, child.stderr] as ({ ref?: () => void; unref?: () => void } | null | undefined)[];
      for (const h of all) (on ? h?.ref : h?.unref)?.call(h);
    },
  };
}

export class CommandSession {
  private current: Current | undefined;
  private ended = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private stderrTail = "";
  /** The group of the last command: the loop checks that nothing of it is left before the next. */
  private lastPgid = 0;

  /**
   * `pipe`: commandLoop() running on the host. `idleMs`: close after this
   * long without a command.
   */
  constructor(
    private readonly pipe: LoopPipe,
    private readonly idleMs: number,
  ) {
    pipe.stdout?.on("data", (b: Buffer) => this.onData(b, "out"));
    pipe.stderr?.on("data", (b: Buffer) => this.onData(b, "err"));
    pipe.stdin?.on("error", () => undefined);
    pipe.onEnd((why) => this.onEnd(why));
    this.idle();
  }

  /** The loop still runs (it may be busy). */
  get alive(): boolean {
    return !this.ended;
  }

  /** Takes a command now: running, and no command in progress. */
  get ready(): boolean {
    return !this.ended && this.current === undefined;
  }

  /** The group of the command in progress, once its wrapper reported it. */
  get pgid(): number | undefined {
    return this.current?.pgid;
  }

  run(cmd: LoopCommand): Promise<LoopOutcome> {
    if (!this.ready) return Promise.resolve({ kind: "refused", setsid: true, message: "the command session is busy" });
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.ref(true);
    return new Promise<LoopOutcome>((resolve) => {
      let settled = false;
      const settle = (o: LoopOutcome): void => {
        if (settled) return;
        settled = true;
        if (this.current?.cmd === cmd) this.current = undefined;
        if (o.kind === "done" && !this.ended) this.idle();
        resolve(o);
      };
      const onMarker =
        (stream: "out" | "err") =>
        (kind: "pgid" | "exit" | "done" | "busy", value: number): void => {
          const c = this.current;
          if (!c || c.cmd !== cmd) return;
          if (kind === "busy") {
            // Refused: something of the last command still runs, or no setsid. Retire this loop.
            this.close();
            settle({
              kind: "refused",
              setsid: value !== 0,
              message: value === 0 ? "no setsid on the host" : `processes of group ${value} are still running`,
            });
          } else if (kind === "pgid" && stream === "err") {
            c.pgid = value;
            this.lastPgid = value;
            this.flushEarly(c);
            cmd.onStart?.(value);
          } else if (kind === "exit" && stream === "err") {
            c.exitStatus = value;
          } else if (kind === "done") {
            if (stream === "out") c.outDone = true;
            else c.errDone = true;
            if (c.outDone && c.errDone) {
              this.flushEarly(c);
              settle({ kind: "done", exitStatus: c.exitStatus });
            }
          }
        };
      this.current = {
        cmd,
        out: new MarkerFilter(cmd.token, onMarker("out")),
        err: new MarkerFilter(cmd.token, onMarker("err")),
        pgid: undefined,
        exitStatus: undefined,
        outDone: false,
        errDone: false,
        early: [],
        earlySize: 0,
        settle,
      };
      const ok = this.pipe.stdin?.write(loopRequest(cmd.token, this.lastPgid, cmd.text));
      if (ok === undefined) this.onEnd("the command session has no input");
    });
  }

  /** End the loop (its input closes) and its session with it. Idempotent. */
  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (!this.ended) this.ended = true;
    this.pipe.stop();
    this.ref(false);
  }

  private onData(chunk: Buffer, stream: "out" | "err"): void {
    const c = this.current;
    if (!c) {
      if (chunk.length === 0) return;
      if (stream === "err") this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2000);
      // Output with no command in progress: something left behind writes on the session. Retire it.
      this.close();
      return;
    }
    if (stream === "out") {
      const rest = c.out.push(chunk);
      if (rest.length > 0) c.cmd.onStdout?.(rest);
      return;
    }
    const rest = c.err.push(chunk);
    if (rest.length === 0) return;
    if (c.early) {
      c.early.push(rest);
      c.earlySize += rest.length;
      this.stderrTail = (this.stderrTail + rest.toString("utf8")).slice(-2000);
      if (c.earlySize > MAX_EARLY_STDERR) this.flushEarly(c);
      return;
    }
    c.cmd.onStderr?.(rest);
  }

  private flushEarly(c: Current): void {
    const held = c.early;
    c.early = undefined;
    for (const b of held ?? []) c.cmd.onStderr?.(b);
  }

  private onEnd(why: string): void {
    const wasEnded = this.ended;
    this.ended = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const c = this.current;
    if (!c) return;
    const tail = c.out.end();
    if (tail.length > 0) c.cmd.onStdout?.(tail);
    const errTail = c.err.end();
    if (errTail.length > 0) (c.early ?? []).push(errTail);
    const started = c.pgid !== undefined;
    if (started) this.flushEarly(c);
    const said = this.stderrTail.trim().split("\n").slice(-3).join("; ");
    c.settle({ kind: "broken", started, message: said || (wasEnded ? "the command session was closed" : why) });
  }

  private idle(): void {
    this.ref(false);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.idleMs);
    this.idleTimer.unref();
  }

  /** A waiting loop must not keep the orchestrator's process alive; a running command does. */
  private ref(on: boolean): void {
    this.pipe.ref(on);
  }
}
