// The terminal of `troupe run`: what a person (or a CI log) sees while a
// run goes on.
//
// Lines mirror Spread's (spread/runner.go, client.go): each log entry starts
// with `2016-06-02 12:34:56 ` and uses Spread's words: `Allocating ...`,
// `Preparing CONTEXT (HOST)...`, `Executing JOB (HOST) (N/M)...`,
// `Error executing JOB (HOST) :` with the script's output in a `-----` block,
// `WARNING: HOST (CONTEXT) running late. Current output:`, `Discarding ...`,
// and the summary at the end (summary.ts).
//
// Verbosity:
//  -1   (-q) only failures, warnings and the summary: no progress lines;
//   0   script output only when a script fails (and when one runs late);
//   1   (-v) also the output of successful scripts, once each finishes;
//   2   (-vv) every script's output live as it is printed, without time
//       prefix; lines of multi-host jobs are prefixed with the host's name in
//       the job (`client-1: `); when more than one job can run at once, the
//       lines of other jobs are prefixed with their host (`debian-3: `) so
//       that interleaved lines can be told apart (not for Spread projects,
//       whose checks read the lines as Spread prints them); and debug messages.
//
// Whatever a host prints is neutralised (terminal-safe.ts) before it is
// written: its control characters are spelled out (`^[`), never obeyed.
//
// An interactive shell (--shell, --debug, --shell-before/after) takes the
// terminal (a `terminal` event): the status block is erased, nothing is
// drawn and lines are held (terminal-screen.ts) until the shell gives it
// back. An interrupt's words are written
// like any other line, and stay in the status block until the run ends.
//
// In a multi-host job a host is shown as `debian-3 as client-1` (the machine,
// and its name in the job), and a failed job's summary line says why it
// failed and on which host. When a script printed more than troupe keeps in
// memory, its failure shows the end and names the log that has it all.
//
// Two modes:
//   - not a TTY: plain lines, written at once, one write per entry, so lines
//     from concurrent jobs never interleave mid-line;
//   - TTY: the same lines scroll while a status block (status-block.ts) stays
//     at the bottom, redrawn in place at most every `redrawMs` (100 ms): lines
//     are queued and written together with the block in one write
//     (terminal-screen.ts, which `troupe play`'s writer shares).

import { join } from "node:path";
import type { Writable } from "node:stream";
import type { HookFinished, HostDiscarded, HostStep, Message, Output, TimeoutWarning, WorkerBroken } from "../events.js";
import type { Interrupted, TerminalHandover } from "../events.js";
import { makeColors, type Colors } from "../colors.js";
import { neutralize } from "../terminal-safe.js";
import { capitalize, exitText, failureOutput, formatTimestamp, outputOrError, tail, verbFor, type TimeZone } from "../format.js";
import type { RunModel } from "../model/run-model.js";
import type { HookState, HostState, JobState } from "../model/state.js";
import type { Reporter } from "../reporter.js";
import { renderStatus } from "../status-block.js";
import { TerminalScreen } from "../terminal-screen.js";
import { formatSummary } from "../summary.js";

export type Verbosity = -1 | 0 | 1 | 2;

export interface TerminalOptions {
  readonly out: Writable;
  readonly verbosity: Verbosity;
  /** Draw the live status block (the output is a terminal). */
  readonly tty: boolean;
  readonly color: boolean;
  /** Time zone of the line prefix; Spread uses local time. */
  readonly timeZone?: TimeZone;
  /**
   * -vv shows single-host jobs' lines as they are, also when jobs run at
   * once, as Spread does: a Spread project's own checks read that output
   * (Spread's tests/lxd greps `^WORKS ubuntu-16.04$`).
   */
  readonly unprefixedOutput?: boolean;
  /** The clock for elapsed times in the status block (tests inject one). */
  readonly now?: () => number;
  /** Terminal size; taken from `out` when it is a TTY stream, else 80x24. */
  readonly columns?: number;
  readonly rows?: number;
  /** Minimum time between two redraws of the status block. */
  readonly redrawMs?: number;
}

type Style = "plain" | "error" | "warn" | "good";

/** `head` and an error text: a fenced block goes on the next lines, a single line after a space. */
function join2(head: string, err: string): string {
  return err.startsWith("\n") ? head + err : `${head} ${err}`;
}

function failed(e: HookFinished): boolean {
  return e.exitCode !== 0 || e.killedBy !== undefined;
}

interface TtyStream {
  columns?: number;
  rows?: number;
}

export class TerminalReporter implements Reporter {
  private readonly out: Writable;
  private readonly verbosity: Verbosity;
  private readonly tty: boolean;
  private readonly colors: Colors;
  private readonly tz: TimeZone;
  private readonly now: () => number;
  private readonly fixedColumns: number | undefined;
  private readonly fixedRows: number | undefined;
  private readonly unprefixedOutput: boolean;
  /** Hosts whose discarding was said already (the end says only what went wrong). */
  private readonly discardPrinted = new Set<string>();
  private model: RunModel | undefined;

  private readonly screen: TerminalScreen;
  /** What the interrupt said, kept at the bottom of the block. */
  private notice: string | undefined;

  constructor(opts: TerminalOptions) {
    this.out = opts.out;
    this.verbosity = opts.verbosity;
    this.tty = opts.tty;
    this.colors = makeColors(opts.color);
    this.tz = opts.timeZone ?? "local";
    this.now = opts.now ?? Date.now;
    this.fixedColumns = opts.columns;
    this.fixedRows = opts.rows;
    this.unprefixedOutput = opts.unprefixedOutput ?? false;
    this.screen = new TerminalScreen({
      out: this.out,
      tty: this.tty,
      now: this.now,
      ...(opts.redrawMs !== undefined ? { redrawMs: opts.redrawMs } : {}),
      block: () => this.statusLines(),
    });
  }

  onRunStart(run: RunModel): void {
    this.model = run;
    const time = run.startMs ?? this.now();
    if (run.counts.total > run.workers && this.verbosity >= 0) this.log(time, `Sequence of jobs produced with -seed=${run.seed}`);
    if (this.verbosity >= 1) this.log(time, `Run ${run.runId}: results in ${run.dir}`);
  }

  onHostStep(e: HostStep, _host: HostState | undefined, run: RunModel): void {
    this.model = run;
    const server = e.host ? this.server(e.host) : `${e.backend}:${e.system}`;
    switch (e.step) {
      case "allocating":
        this.log(e.time, `Allocating ${e.backend}:${e.system}...`);
        break;
      case "connecting":
        this.log(e.time, `Connecting to ${server}...`);
        break;
      case "sending":
        this.log(e.time, `Sending project content to ${server}...`);
        break;
      case "reusing":
        this.log(e.time, `Reusing project data on ${server}...`);
        break;
      case "discarding":
        this.log(e.time, `Discarding ${server}...`);
        if (e.host) this.discardPrinted.add(e.host);
        break;
      case "keeping":
        this.log(e.time, `Keeping ${server}${e.host ? this.at(e.host) : ""}.`);
        if (e.host) this.discardPrinted.add(e.host);
        break;
    }
    this.schedule();
  }

  onHostAllocated(host: HostState, run: RunModel): void {
    this.model = run;
    this.log(host.allocatedMs ?? this.now(), `${host.reused ? "Reusing" : "Allocated"} ${this.server(host.name)} at ${host.address}.`);
  }

  onHostDiscarded(host: HostState, e: HostDiscarded): void {
    if (e.kept) {
      if (!this.discardPrinted.has(e.host)) this.log(e.time, `Keeping ${this.server(e.host)}${this.at(e.host)}.`);
    } else if (!this.discardPrinted.has(e.host)) {
      this.log(e.time, e.reason ? `Discarding ${this.server(e.host)}, ${e.reason}` : `Discarding ${this.server(e.host)}...`);
    } else if (e.reason) {
      this.log(e.time, `Discarded ${this.server(host.name)}: ${e.reason}`);
    }
    this.discardPrinted.delete(e.host);
    this.schedule();
  }

  onWorkerBroken(e: WorkerBroken): void {
    this.log(e.time, `Worker on ${this.server(e.host)} broken: ${e.reason}`, "error");
  }

  onJobStart(): void {
    this.schedule();
  }

  onHookStart(hook: HookState, run: RunModel): void {
    this.model = run;
    const who = run.who(hook.job, hook.host);
    const time = hook.startMs;
    switch (hook.phase) {
      case "prepare":
      case "restore":
        this.log(time, `${capitalize(verbFor(hook.phase))} ${hook.context} (${who})...`);
        break;
      case "execute": {
        const job = run.job(hook.job);
        const seq = job && job.seq > 0 ? ` (${job.seq}/${job.total})` : "";
        this.log(time, `Executing ${hook.context} (${who})${seq}...`);
        break;
      }
      case "allocate":
        this.log(time, `Allocating ${hook.context}...`);
        break;
      case "discard":
        if (hook.host) this.discardPrinted.add(hook.host);
        this.log(time, `Discarding ${hook.host ? this.server(hook.host) : hook.context}...`);
        break;
      case "artifacts":
        this.log(time, `Fetching artifacts of ${hook.job}...`);
        break;
      case "debug":
        break;
    }
    this.schedule();
  }

  onOutput(e: Output, _hook: HookState | undefined, run: RunModel): void {
    if (this.verbosity < 2) return;
    const job = run.job(e.job);
    const end = e.partial ? "" : "\n";
    // A multi-host job's lines say the host's name in the job; with more than
    // one job at a time, lines of different jobs interleave, so each says its host.
    const concurrent = !this.unprefixedOutput && run.workers > (job?.hosts.length ?? 1);
    if (job && job.roles.size > 0) this.raw(`${job.roles.get(e.host)?.name ?? e.host}: ${e.line}`, end);
    else this.raw(concurrent || (job !== undefined && job.hosts.length > 1) ? `${e.host}: ${e.line}` : e.line, end);
  }

  onTimeoutWarning(e: TimeoutWarning, hook: HookState | undefined, run: RunModel): void {
    const text = e.output.trim();
    let msg = `WARNING: ${run.who(e.job, e.host)} (${e.context}) running late. `;
    if (text) msg += `Current output:\n-----\n${tail(text)}\n-----`;
    else msg += hook?.sawOutput ? "Output unchanged." : "Output still empty.";
    this.log(e.time, msg, "warn");
  }

  onHookEnd(hook: HookState, e: HookFinished, run: RunModel): void {
    this.schedule();
    const where = `${e.context} (${run.who(e.job, e.host)})`;
    if (!failed(e)) {
      const text = e.output.trim();
      if (e.phase === "debug" && text) {
        this.log(e.time, join2(`Debug output for ${where} :`, outputOrError(this.cut(text, hook), "")));
      } else if (this.verbosity === 1 && text && (e.phase === "prepare" || e.phase === "execute" || e.phase === "restore")) {
        this.log(e.time, join2(`Output of ${verbFor(e.phase)} ${where} :`, outputOrError(this.cut(text, hook), "")));
      }
      return;
    }
    // ERROR and FATAL say why themselves: Spread prints only their message (the output stays in the hook's log).
    const err =
      e.failure === "marker" && e.error
        ? e.error
        : outputOrError(this.cut(failureOutput(e.output, e.killedBy), hook), exitText(e.exitCode, e.killedBy));
    switch (e.phase) {
      case "prepare":
      case "execute":
      case "restore":
        this.log(e.time, join2(`Error ${verbFor(e.phase)} ${where} :`, err), "error");
        break;
      case "debug":
        this.log(e.time, join2(`Error debugging ${where} :`, err), "error");
        break;
      case "allocate":
        this.log(e.time, join2(`Cannot allocate ${e.context}:`, err), "error");
        break;
      case "discard":
        this.log(e.time, join2(`Error discarding ${e.host ? this.server(e.host) : e.context}:`, err), "error");
        break;
      case "artifacts":
        this.log(e.time, join2(`Cannot fetch artifacts of ${e.job}:`, err), "error");
        break;
    }
  }

  onJobEnd(job: JobState): void {
    if (job.status === "aborted" && job.reason && this.verbosity >= 1)
      this.log(job.endMs ?? this.now(), `Aborted ${job.name}: ${job.reason}`, "warn");
    this.schedule();
  }

  onRunEnd(run: RunModel): void {
    // A run of no job (-discard) has nothing to sum up, as in Spread.
    if (run.noJobs) {
      this.flush();
      return;
    }
    const time = run.endMs ?? this.now();
    const notes = new Map<string, string>();
    for (const name of run.failed) {
      const j = run.job(name);
      if (j?.reason && j.roles.size > 0) notes.set(name, j.reason);
    }
    const hookFailures = run.failedHooks.map((f) => ({ level: f.level, phase: f.phase, name: f.context, host: f.host }));
    const abortReasons = new Map<string, string>();
    for (const name of run.aborted) {
      const j = run.job(name);
      if (j?.reason) abortReasons.set(name, j.reason);
    }
    // The slowest jobs with -v: by default the summary's last lines stay Spread's, for what reads them.
    const durations = [...run.jobs.values()]
      .filter((j) => (j.status === "passed" || j.status === "failed") && j.endMs !== undefined)
      .map((j) => ({ name: j.name, ms: j.durationMs }))
      .filter(() => this.verbosity >= 1);
    const summary = formatSummary({
      passed: run.passed,
      failed: run.failed,
      aborted: run.aborted,
      hookFailures,
      notes,
      abortReasons,
      durations,
    });
    for (const entry of summary) {
      this.log(time, entry.text, entry.tone === "bad" ? "error" : entry.tone === "good" ? "good" : "plain", true);
    }
    this.flush();
  }

  onTerminal(e: TerminalHandover): void {
    if (e.holder === "shell") this.screen.pause();
    else this.screen.resume();
  }

  onInterrupt(e: Interrupted): void {
    this.notice = e.text;
    this.log(e.time, e.text, "warn", true);
  }

  onMessage(e: Message): void {
    if (e.level === "debug" && this.verbosity < 2) return;
    if (e.level === "warn") this.log(e.time, `WARNING: ${e.text}`, "warn");
    else this.log(e.time, e.text, e.level === "error" ? "error" : "plain");
  }

  /** Write queued lines (and on a TTY, redraw the status block) now. */
  flush(): void {
    this.screen.flush();
  }

  /** Stop redrawing, erase the status block and write what is queued. */
  close(): void {
    this.screen.close();
  }

  // --- output ---

  /** A script's output as shown: when troupe kept only its end, say where the rest is. */
  private cut(text: string, hook: HookState): string {
    if (!hook.truncated || !this.model) return text;
    const log = hook.logPath !== undefined ? join(this.model.dir, hook.logPath) : "its log";
    return `(... output cut: all of it is in ${log} ...)\n${text}`;
  }

  /** ` at ADDRESS` when the host's address is known. */
  private at(host: string): string {
    const a = this.model?.hosts.get(host)?.address;
    return a ? ` at ${a}` : "";
  }

  /** `backend:system (host)`, Spread's way of naming a server. */
  private server(host: string): string {
    const h = this.model?.hosts.get(host);
    return h && h.backend ? `${h.backend}:${h.system} (${host})` : host;
  }

  /**
   * One log entry: time prefix on its first line; later lines as they are.
   * With -q, only errors, warnings and what is `always` said (the summary).
   */
  private log(time: number, text: string, style: Style = "plain", always = false): void {
    if (this.verbosity < 0 && !always && (style === "plain" || style === "good")) return;
    const c = this.colors;
    const [first = "", ...rest] = neutralize(text).split("\n");
    const paint = style === "error" ? c.red : style === "warn" ? c.yellow : style === "good" ? c.green : (s: string) => s;
    const line = `${c.dim(formatTimestamp(time, this.tz))} ${paint(first)}`;
    this.emit([line, ...rest].join("\n") + "\n");
  }

  /** Script output shown live (-vv): no prefix. */
  private raw(line: string, end: string): void {
    this.emit(neutralize(line) + end);
  }

  private emit(text: string): void {
    this.screen.write(text);
  }

  private schedule(): void {
    this.screen.schedule();
  }

  /** The terminal's size now (it may have been resized), unless fixed by the options. */
  private size(): { columns: number; rows: number } {
    const tty = this.out as unknown as TtyStream;
    return { columns: this.fixedColumns ?? tty.columns ?? 80, rows: this.fixedRows ?? tty.rows ?? 24 };
  }

  private statusLines(): string[] {
    const { columns, rows } = this.size();
    const m = this.model;
    const busy = m
      ? [...m.hosts.values()]
          .filter((h) => h.activity !== undefined)
          .map((h) => ({ host: h.name, job: h.activity!.job, phase: verbPhase(h.activity!.phase), since: h.activity!.since }))
      : [];
    return renderStatus({
      counts: m ? { ...m.counts } : { total: 0, done: 0, failed: 0, aborted: 0, started: 0 },
      busy,
      now: this.now(),
      columns,
      maxRows: Math.max(1, Math.min(20, rows - 5)),
      colors: this.colors,
      ...(m?.startMs !== undefined ? { startMs: m.startMs } : {}),
      ...(this.notice ? { notice: this.notice } : {}),
    });
  }
}

/** What the status block says a host is doing: Spread's verb for a hook's phase, a host step as it is. */
function verbPhase(phase: string): string {
  switch (phase) {
    case "prepare":
    case "execute":
    case "restore":
    case "debug":
    case "allocate":
    case "discard":
    case "artifacts":
      return verbFor(phase);
    default:
      return phase;
  }
}
