// The hook logs of a run. Every line a script prints is kept on disk:
// - in the hook's own file (named by the run model: `<job-folder>/execute.log`,
//   `hooks/<context>/suite-prepare.HOST.log`) when it failed, printed much or
//   ran long: such a log is streamed to its file as the script prints (past
//   64 KiB, or after 2 s, so that `tail -f` works);
// - else, once the hook ended, as one section of the run's `output.log`.
// Pieces of very long lines are joined back. A killed script's log ends with
// `<kill-timeout reached>`. See hook-log.ts for how a file is written.

import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HookFinished, Output } from "../events.js";
import { HookLog } from "../hook-log.js";
import { RUN_LOG, runLogHeader } from "../model/run-model.js";
import type { HookState } from "../model/state.js";
import type { Reporter } from "../reporter.js";

/** A hook still running after this long streams its log to its own file (the run model gives it that file). */
const STREAM_AFTER_MS = 2000;

export class HookLogs implements Reporter {
  private readonly open = new Map<HookState, HookLog>();
  private readonly closing = new Set<Promise<void>>();
  /** Directories made or being made, off the event loop (a mkdir costs 0.2 ms or more on a busy disk). */
  private readonly madeDirs = new Map<string, Promise<void>>();
  private readonly errors: Error[] = [];
  private runLog: HookLog | undefined;
  private streamTimer: NodeJS.Timeout | undefined;
  private rootMade = false;

  constructor(
    private readonly runDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  onHookStart(hook: HookState): void {
    if (hook.ownLog === undefined) return;
    const path = join(this.runDir, hook.ownLog);
    this.open.set(
      hook,
      new HookLog(
        path,
        () => this.madeDir(dirname(path)),
        (err) => this.fail(err),
      ),
    );
    this.watchLongHooks();
  }

  onOutput(e: Output, hook: HookState | undefined): void {
    if (hook) this.open.get(hook)?.writeLine(e.line, e.partial);
  }

  onHookEnd(hook: HookState, e: HookFinished): void {
    let log = this.open.get(hook);
    if (!log && hook.ownLog !== undefined) {
      // Finished without a start seen: its log is what the end says.
      this.onHookStart(hook);
      log = this.open.get(hook);
    }
    if (!log) return;
    this.open.delete(hook);
    if (log.lines === 0 && e.output.trim() !== "") log.write(e.output.endsWith("\n") ? e.output : e.output + "\n");
    if (e.killedBy === "timeout" && !e.output.trimEnd().endsWith("<kill-timeout reached>")) log.write("<kill-timeout reached>\n");
    if (hook.logPath === RUN_LOG && !log.streaming) {
      this.runLogOf().write(`${runLogHeader(hook)}\n${log.take()}`);
      return;
    }
    this.end(log);
  }

  close(): void {
    if (this.streamTimer) clearInterval(this.streamTimer);
    this.streamTimer = undefined;
  }

  /** Close every log; throws when a log could not be written. */
  async finish(): Promise<void> {
    this.close();
    for (const log of this.open.values()) this.end(log);
    this.open.clear();
    if (this.runLog) this.end(this.runLog);
    await Promise.all([...this.closing]);
    if (this.errors.length > 0) throw filesError("log", this.errors);
  }

  /** The run's `output.log`, open for appending sections. */
  private runLogOf(): HookLog {
    if (!this.runLog) {
      this.runLog = new HookLog(
        join(this.runDir, RUN_LOG),
        () => this.madeDir(this.runDir),
        (err) => this.fail(err),
      );
      this.runLog.startStreaming();
    }
    return this.runLog;
  }

  private end(log: HookLog): void {
    const p = log.end();
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }

  private madeDir(dir: string): Promise<void> {
    let made = this.madeDirs.get(dir);
    if (!made) {
      if (!this.rootMade) {
        try {
          mkdirSync(this.runDir, { recursive: true });
          this.rootMade = true;
        } catch (err) {
          this.fail(err);
        }
      }
      made = mkdir(dir, { recursive: true }).then(() => undefined);
      made.catch((err: unknown) => this.fail(err));
      this.madeDirs.set(dir, made);
    }
    return made;
  }

  /** Once a second, hooks running for a while switch their logs to streaming, so they can be followed. */
  private watchLongHooks(): void {
    if (this.streamTimer) return;
    this.streamTimer = setInterval(() => {
      const before = this.now() - STREAM_AFTER_MS;
      for (const [hook, log] of this.open) if (hook.startMs <= before) log.startStreaming();
    }, 1000);
    this.streamTimer.unref();
  }

  private fail(err: unknown): void {
    this.errors.push(err instanceof Error ? err : new Error(String(err)));
  }
}

/** One error for every file of a kind that could not be written: the first's message, and how many. */
export function filesError(what: string, errors: readonly Error[]): Error {
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more ${what} file${errors.length > 2 ? "s" : ""})` : "";
  return new Error(`cannot write ${what}: ${errors[0]!.message}${more}`, { cause: errors[0] });
}
