// The terminal writer: what a person (or a CI log) sees while a run goes on.
//
// Lines mirror Spread's (spread/runner.go, client.go): each log entry starts
// with `2016-06-02 12:34:56 ` and uses Spread's words: `Allocating ...`,
// `Preparing CONTEXT (HOST)...`, `Executing JOB (HOST) (N/M)...`,
// `Error executing JOB (HOST) :` with the script's output in a `-----` block,
// `WARNING: HOST (CONTEXT) running late. Current output:`, `Discarding ...`,
// and the summary at the end (summary.ts).
//
// Verbosity, following the brief and Spread's flags:
//   0   script output only when a script fails (and when one runs late);
//   1   (-v) also the output of successful scripts, once each finishes;
//   2   (-vv) every script's output live as it is printed, without time
//       prefix; lines of multi-host jobs are prefixed with the host's name in
//       the job (`client-1: `); and debug messages.
//
// In a multi-host job a host is shown as `debian-3 as client-1` (the machine,
// and its name in the job), and a failed job's summary line says why it
// failed and on which host: `- local:debian:cluster/http (execute failed on
// client-1: exit status 1)`. (Spread has no multi-host jobs: its lines are
// unchanged.) (Spread's -vv prints every script's output too, after
//       the script ends, among its debug messages.)
//
// Two modes:
//   - not a TTY: plain lines, written at once, one write per entry, so lines
//     from concurrent jobs never interleave mid-line;
//   - TTY: the same lines scroll while a status block (status-block.ts) stays
//     at the bottom, redrawn in place at most every `redrawMs` (100 ms): lines
//     are queued and written together with the block in one write.

import type { Writable } from "node:stream";
import type { HookFinished, HookStarted, JobHostRole, Level, Phase, TroupeEvent } from "./events.js";
import { makeColors, type Colors } from "./colors.js";
import { capitalize, exitText, failureOutput, formatTimestamp, outputOrError, tail, verbFor, type TimeZone } from "./format.js";
import { renderStatus, type BusyHost } from "./status-block.js";
import { formatSummary, type HookFailure } from "./summary.js";

export type Verbosity = 0 | 1 | 2;

export interface TerminalOptions {
  readonly out: Writable;
  readonly verbosity: Verbosity;
  /** Draw the live status block (the output is a terminal). */
  readonly tty: boolean;
  readonly color: boolean;
  /** Time zone of the line prefix; Spread uses local time. */
  readonly timeZone?: TimeZone;
  /** The clock for elapsed times in the status block (tests inject one). */
  readonly now?: () => number;
  /** Terminal size; taken from `out` when it is a TTY stream, else 80x24. */
  readonly columns?: number;
  readonly rows?: number;
  /** Minimum time between two redraws of the status block. */
  readonly redrawMs?: number;
}

type Style = "plain" | "error" | "warn" | "good";

interface HostInfo {
  readonly backend: string;
  readonly system: string;
  readonly address?: string;
}

interface JobInfo {
  readonly seq: number;
  readonly total: number;
  readonly hosts: readonly string[];
  /** Multi-host job: each host's name in the job, by host. */
  readonly roles?: ReadonlyMap<string, JobHostRole>;
}

interface HookState {
  sawOutput: boolean;
}

function hookKey(e: { job: string; phase: Phase; host: string; context: string }): string {
  return `${e.job}\u0000${e.context}\u0000${e.phase}\u0000${e.host}`;
}

/** `head` and an error text: a fenced block goes on the next lines, a single line after a space. */
function join(head: string, err: string): string {
  return err.startsWith("\n") ? head + err : `${head} ${err}`;
}

function failed(e: HookFinished): boolean {
  return e.exitCode !== 0 || e.killedBy !== undefined;
}

interface TtyStream {
  columns?: number;
  rows?: number;
}

export class TerminalWriter {
  private readonly out: Writable;
  private readonly verbosity: Verbosity;
  private readonly tty: boolean;
  private readonly colors: Colors;
  private readonly tz: TimeZone;
  private readonly now: () => number;
  private readonly redrawMs: number;
  private readonly fixedColumns: number | undefined;
  private readonly fixedRows: number | undefined;

  private readonly hosts = new Map<string, HostInfo>();
  private readonly jobs = new Map<string, JobInfo>();
  private readonly hooks = new Map<string, HookState>();
  private readonly discardPrinted = new Set<string>();
  private readonly hookFailures: HookFailure[] = [];
  /** Why each failed multi-host job failed, for its summary line. */
  private readonly failedWhy = new Map<string, string>();
  private readonly hookFailureKeys = new Set<string>();
  private readonly busy = new Map<string, BusyHost>();
  private total = 0;
  private noJobs = false;
  private started = 0;
  private done = 0;
  private failedJobs = 0;
  private abortedJobs = 0;

  // TTY drawing state.
  private pending: string[] = [];
  private drawn = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: TerminalOptions) {
    this.out = opts.out;
    this.verbosity = opts.verbosity;
    this.tty = opts.tty;
    this.colors = makeColors(opts.color);
    this.tz = opts.timeZone ?? "local";
    this.now = opts.now ?? Date.now;
    this.redrawMs = opts.redrawMs ?? 100;
    this.fixedColumns = opts.columns;
    this.fixedRows = opts.rows;
    if (this.tty) {
      // Refresh elapsed times once a second; never keeps the process alive.
      this.ticker = setInterval(() => this.schedule(), 1000);
      this.ticker.unref();
    }
  }

  /** Feed one event; subscribe with `events.on((e) => writer.handle(e))`. */
  handle(e: TroupeEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case "run-started":
        this.total = e.jobs;
        this.noJobs = e.jobs === 0;
        if (e.jobs > e.workers) this.log(e.time, `Sequence of jobs produced with -seed=${e.seed}`);
        if (this.verbosity >= 1) this.log(e.time, `Run ${e.runId}: results in ${e.dir}`);
        break;
      case "host-step":
        this.hostStep(e);
        break;
      case "host-allocated":
        this.hosts.set(e.host, { backend: e.backend, system: e.system, address: e.address });
        this.log(e.time, `${e.reused ? "Reusing" : "Allocated"} ${this.server(e.host)} at ${e.address}.`);
        break;
      case "host-discarded":
        if (e.kept) {
          if (!this.discardPrinted.has(e.host)) this.log(e.time, `Keeping ${this.server(e.host)}${this.at(e.host)}.`);
        } else if (!this.discardPrinted.has(e.host)) {
          this.log(e.time, e.reason ? `Discarding ${this.server(e.host)}, ${e.reason}` : `Discarding ${this.server(e.host)}...`);
        } else if (e.reason) {
          this.log(e.time, `Discarded ${this.server(e.host)}: ${e.reason}`);
        }
        this.discardPrinted.delete(e.host);
        this.busy.delete(e.host);
        this.schedule();
        break;
      case "job-started":
        this.jobs.set(e.job, {
          seq: e.seq,
          total: e.total,
          hosts: e.hosts,
          ...(e.roles ? { roles: new Map(e.roles.map((r) => [r.host, r])) } : {}),
        });
        if (e.total > this.total) this.total = e.total;
        this.started++;
        for (const h of e.hosts) this.busy.set(h, { host: h, job: e.job, phase: "", since: e.time });
        this.schedule();
        break;
      case "hook-started":
        this.hookStarted(e);
        break;
      case "output":
        this.output(e.job, e.context, e.phase, e.host, e.line);
        break;
      case "timeout-warning": {
        const st = this.hooks.get(hookKey(e));
        const text = e.output.trim();
        let msg = `WARNING: ${this.who(e.job, e.host)} (${e.context}) running late. `;
        if (text) msg += `Current output:\n-----\n${tail(text)}\n-----`;
        else msg += st?.sawOutput ? "Output unchanged." : "Output still empty.";
        if (st && text) st.sawOutput = true;
        this.log(e.time, msg, "warn");
        break;
      }
      case "hook-finished":
        this.hookFinished(e);
        break;
      case "job-finished": {
        this.done++;
        if (e.status === "failed") this.failedJobs++;
        if (e.status === "failed" && e.reason && this.jobs.get(e.job)?.roles) this.failedWhy.set(e.job, e.reason);
        if (e.status === "aborted") this.abortedJobs++;
        const info = this.jobs.get(e.job);
        for (const h of info?.hosts ?? []) {
          const b = this.busy.get(h);
          if (b && b.job === e.job) this.busy.delete(h);
        }
        if (e.status === "aborted" && e.reason && this.verbosity >= 1) this.log(e.time, `Aborted ${e.job}: ${e.reason}`, "warn");
        this.schedule();
        break;
      }
      case "worker-broken":
        this.log(e.time, `Worker on ${this.server(e.host)} broken: ${e.reason}`, "error");
        break;
      case "run-finished":
        this.busy.clear();
        // A run of no job (-discard) has nothing to sum up, as in Spread.
        if (this.noJobs) {
          this.flush();
          break;
        }
        for (const entry of formatSummary({
          passed: e.passed,
          failed: e.failed,
          aborted: e.aborted,
          hookFailures: this.hookFailures,
          notes: this.failedWhy,
        })) {
          const style: Style = entry.startsWith("Failed") ? "error" : entry.startsWith("Successful") ? "good" : "plain";
          this.log(e.time, entry, style);
        }
        this.flush();
        break;
      case "message":
        if (e.level === "debug" && this.verbosity < 2) break;
        if (e.level === "warn") {
          this.log(e.time, e.text.startsWith("WARNING") ? e.text : `WARNING: ${e.text}`, "warn");
        } else {
          this.log(e.time, e.text, e.level === "error" ? "error" : "plain");
        }
        break;
      default:
        // Scenario events: the scenario's terminal writer prints them.
        break;
    }
  }

  /** Write queued lines and redraw the status block now (TTY mode). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.tty) return;
    const block = this.closed ? [] : this.statusLines();
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : "";
    text += this.pending.join("");
    this.pending = [];
    for (const l of block) text += l + "\n";
    this.drawn = block.length;
    this.lastDraw = this.now();
    if (text) this.out.write(text);
  }

  /** Stop redrawing, erase the status block and write what is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.flush();
  }

  // --- events ---

  private hostStep(e: Extract<TroupeEvent, { type: "host-step" }>): void {
    if (e.host) this.hosts.set(e.host, { backend: e.backend, system: e.system, address: e.address });
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
    if (e.host && e.step !== "discarding" && e.step !== "keeping") {
      this.busy.set(e.host, { host: e.host, job: "", phase: e.step, since: e.time });
      this.schedule();
    }
  }

  private hookStarted(e: HookStarted): void {
    this.hooks.set(hookKey(e), { sawOutput: false });
    if (e.host) this.busy.set(e.host, { host: e.host, job: e.job, phase: verbFor(e.phase), since: e.time });
    switch (e.phase) {
      case "prepare":
      case "restore":
        this.log(e.time, `${capitalize(verbFor(e.phase))} ${e.context} (${this.who(e.job, e.host)})...`);
        break;
      case "execute": {
        const info = this.jobs.get(e.job);
        const seq = info ? ` (${info.seq}/${info.total})` : "";
        this.log(e.time, `Executing ${e.context} (${this.who(e.job, e.host)})${seq}...`);
        break;
      }
      case "allocate":
        this.log(e.time, `Allocating ${e.context}...`);
        break;
      case "discard":
        if (e.host) this.discardPrinted.add(e.host);
        this.log(e.time, `Discarding ${e.host ? this.server(e.host) : e.context}...`);
        break;
      case "artifacts":
        this.log(e.time, `Fetching artifacts of ${e.job}...`);
        break;
      case "debug":
        break;
    }
    this.schedule();
  }

  private output(job: string, context: string, phase: Phase, host: string, line: string): void {
    const st = this.hooks.get(hookKey({ job, context, phase, host }));
    if (st) st.sawOutput = true;
    if (this.verbosity < 2) return;
    const info = this.jobs.get(job);
    if (info?.roles) this.raw(`${info.roles.get(host)?.name ?? host}: ${line}`);
    else this.raw(info !== undefined && info.hosts.length > 1 ? `${host}: ${line}` : line);
  }

  private hookFinished(e: HookFinished): void {
    const key = hookKey(e);
    this.hooks.delete(key);
    const b = this.busy.get(e.host);
    if (b && b.phase === verbFor(e.phase)) {
      const stillJob = this.jobs.has(e.job) ? e.job : "";
      this.busy.set(e.host, { host: e.host, job: stillJob, phase: "", since: e.time });
    }
    this.schedule();
    const where = `${e.context} (${this.who(e.job, e.host)})`;
    if (!failed(e)) {
      const text = e.output.trim();
      if (e.phase === "debug" && text) {
        this.log(e.time, join(`Debug output for ${where} :`, outputOrError(text, "")));
      } else if (this.verbosity === 1 && text && (e.phase === "prepare" || e.phase === "execute" || e.phase === "restore")) {
        this.log(e.time, join(`Output of ${verbFor(e.phase)} ${where} :`, outputOrError(text, "")));
      }
      return;
    }
    const err = outputOrError(failureOutput(e.output, e.killedBy), exitText(e.exitCode, e.killedBy));
    switch (e.phase) {
      case "prepare":
      case "execute":
      case "restore":
        this.log(e.time, join(`Error ${verbFor(e.phase)} ${where} :`, err), "error");
        if (e.phase !== "execute") this.recordHookFailure(e.level, e.phase, e.level === "task" ? e.job : e.context, e.host);
        break;
      case "debug":
        this.log(e.time, join(`Error debugging ${where} :`, err), "error");
        break;
      case "allocate":
        this.log(e.time, join(`Cannot allocate ${e.context}:`, err), "error");
        break;
      case "discard":
        this.log(e.time, join(`Error discarding ${e.host ? this.server(e.host) : e.context}:`, err), "error");
        break;
      case "artifacts":
        this.log(e.time, join(`Cannot fetch artifacts of ${e.job}:`, err), "error");
        break;
    }
  }

  /** Task-level failures count once per job; others once per host, as Spread counts per worker. */
  private recordHookFailure(level: Level, phase: Phase, name: string, host: string): void {
    const key = level === "task" ? `${level}\u0000${phase}\u0000${name}` : `${level}\u0000${phase}\u0000${name}\u0000${host}`;
    if (this.hookFailureKeys.has(key)) return;
    this.hookFailureKeys.add(key);
    this.hookFailures.push({ level, phase, name });
  }

  // --- output ---

  /** `debian-3 as client-1` for a host of a multi-host job; else the host's name. */
  private who(job: string, host: string): string {
    const as = this.jobs.get(job)?.roles?.get(host)?.name;
    return as !== undefined && as !== host ? `${host} as ${as}` : host;
  }

  /** `backend:system (host)`, Spread's way of naming a server. */
  /** ` at ADDRESS` when the host's address is known. */
  private at(host: string): string {
    const a = this.hosts.get(host)?.address;
    return a ? ` at ${a}` : "";
  }

  private server(host: string): string {
    const h = this.hosts.get(host);
    return h ? `${h.backend}:${h.system} (${host})` : host;
  }

  /** One log entry: time prefix on its first line; later lines as they are. */
  private log(time: number, text: string, style: Style = "plain"): void {
    const c = this.colors;
    const [first = "", ...rest] = text.split("\n");
    const paint = style === "error" ? c.red : style === "warn" ? c.yellow : style === "good" ? c.green : (s: string) => s;
    const line = `${c.dim(formatTimestamp(time, this.tz))} ${paint(first)}`;
    this.emit([line, ...rest].join("\n") + "\n");
  }

  /** Script output shown live (-vv): no prefix. */
  private raw(line: string): void {
    this.emit(line + "\n");
  }

  private emit(text: string): void {
    if (!this.tty) {
      this.out.write(text);
      return;
    }
    this.pending.push(text);
    this.schedule();
  }

  private schedule(): void {
    if (!this.tty || this.closed || this.timer) return;
    const wait = Math.max(0, this.lastDraw + this.redrawMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  /** The terminal's size now (it may have been resized), unless fixed by the options. */
  private size(): { columns: number; rows: number } {
    const tty = this.out as unknown as TtyStream;
    return { columns: this.fixedColumns ?? tty.columns ?? 80, rows: this.fixedRows ?? tty.rows ?? 24 };
  }

  private statusLines(): string[] {
    const { columns, rows } = this.size();
    return renderStatus({
      counts: {
        total: this.total,
        done: this.done,
        failed: this.failedJobs,
        aborted: this.abortedJobs,
        started: this.started,
      },
      busy: [...this.busy.values()],
      now: this.now(),
      columns,
      maxRows: Math.max(1, Math.min(20, rows - 4)),
      colors: this.colors,
    });
  }
}
