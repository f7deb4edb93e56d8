// The terminal of `troupe play`: what a person (or a CI log) sees.
// One write per line, so lines of concurrent hosts never mix mid-line.
//
//   2026-11-22 10:36:17 Playing chain (chain.yaml): 4 hosts, 3 stages
//   2026-11-22 10:36:18 Allocated node-1 (lab:lab) at 10.213.0.5.
//   2026-11-22 10:36:18 Stage 1/3: start the nodes, on node-[1-4]
//   node-1: Serving HTTP on 0.0.0.0 port 8000 ...        (live output)
//   2026-11-22 10:36:19 node-1: serve: ok (0.4s)
//   2026-11-22 10:36:21 Scenario passed: 3 stages, 12 steps in 4s
//
// Verbosity: 0 (-q) stages, failures and the result; 1 (default) also hosts,
// steps, services, variables and every output line as it comes; 2 (-v) also
// debug messages.
//
// On a terminal, the running stage's progress stays below the lines
// (terminal-screen.ts, as `troupe run`'s status block): steps running, done
// and failed, time in the stage and in all, and each running step:
//
//   troupe: stage 2/3 "fetch": 4 running, 7 done, 1 failed; 12s (40s in all)
//     node-3  get [item 5]  3s
//
// What hosts print is neutralised (terminal-safe.ts): shown, never obeyed.

import type { Writable } from "node:stream";
import { makeColors, type Colors } from "../colors.js";
import type {
  HostDiscarded,
  HostStep,
  Interrupted,
  LogKept,
  Message,
  Output,
  PrometheusUpdated,
  ScenarioFailure,
  ServiceStarted,
  ServiceStopped,
  VarsUpdated,
} from "../events.js";
import { formatElapsed, formatTimestamp, tail, truncate, type TimeZone } from "../format.js";
import { TerminalScreen } from "../terminal-screen.js";
import { neutralize } from "../terminal-safe.js";
import type { RunModel } from "../model/run-model.js";
import type { HostState, StageState, StepState } from "../model/state.js";
import type { Reporter } from "../reporter.js";
import { foldHostlist } from "../../util/hostlist.js";
import { formatBytes } from "../../config/input-size.js";
import { join } from "node:path";

export interface ScenarioTerminalOptions {
  readonly out: Writable;
  readonly verbosity: 0 | 1 | 2;
  readonly color: boolean;
  readonly timeZone?: TimeZone;
  /** Keep the running stage's progress below the lines (the output is a terminal). */
  readonly tty?: boolean;
  readonly now?: () => number;
  readonly columns?: number;
}

/** Running steps listed below the stage's progress line, at most. */
const STEP_ROWS = 10;

export class ScenarioTerminal implements Reporter {
  private readonly c: Colors;
  private readonly screen: TerminalScreen;
  private readonly now: () => number;
  private model: RunModel | undefined;
  /** Steps started and not finished (the model lists a stage's steps as they finish). */
  private readonly running = new Set<StepState>();

  constructor(private readonly o: ScenarioTerminalOptions) {
    this.c = makeColors(o.color);
    this.now = o.now ?? Date.now;
    this.screen = new TerminalScreen({ out: o.out, tty: !!o.tty, now: this.now, block: () => this.progress() });
  }

  private line(text: string, time: number): void {
    // `text` is troupe's, colored; what came from hosts in it was neutralised by the caller.
    this.screen.write(`${formatTimestamp(time, this.o.timeZone)} ${text}\n`);
  }

  /** The running stage, as the block below the lines shows it. */
  private progress(): string[] {
    const run = this.model;
    const stage = run?.scenario?.stages.findLast((x) => x.status === "running");
    if (!run || !stage) return [];
    const width = Math.max(10, (this.o.columns ?? (this.o.out as { columns?: number }).columns ?? 80) - 1);
    const now = this.now();
    const running = [...this.running].filter((x) => x.stageIndex === stage.index);
    const done = stage.steps.length;
    const failed = stage.steps.filter((x) => x.status === "failed").length;
    let head = `troupe: stage ${stage.index}/${run.scenario?.totalStages ?? 0} "${stage.name}": ${running.length} running, ${done} done`;
    if (failed) head += `, ${failed} failed`;
    head += `; ${formatElapsed(now - stage.startMs)}`;
    if (run.startMs !== undefined) head += ` (${formatElapsed(now - run.startMs)} in all)`;
    const lines = [failed ? this.c.red(truncate(head, width)) : this.c.bold(truncate(head, width))];
    const hostWidth = Math.min(24, Math.max(4, ...running.map((x) => x.host.length)));
    for (const x of running.slice(0, STEP_ROWS)) {
      lines.push(truncate(`  ${x.host.padEnd(hostWidth)}  ${neutralize(stepName(x))}  ${formatElapsed(now - x.startMs)}`, width));
    }
    if (running.length > STEP_ROWS) lines.push(`  ... and ${running.length - STEP_ROWS} more steps`);
    return lines;
  }

  onStageEnd(_stage: StageState, run: RunModel): void {
    this.model = run;
    this.screen.schedule();
  }

  onStepStart(step: StepState, run: RunModel): void {
    this.model = run;
    this.running.add(step);
    this.screen.schedule();
  }

  close(): void {
    this.screen.close();
  }

  onInterrupt(e: Interrupted): void {
    this.line(this.c.yellow(e.text), e.time);
  }

  onScenarioStart(run: RunModel): void {
    this.model = run;
    const s = run.scenario!;
    const n = s.hostNames.length;
    this.line(
      `Playing ${s.scenario}${s.file ? ` (${s.file})` : ""}: ${n} host${n === 1 ? "" : "s"}, ${s.totalStages} stage${s.totalStages === 1 ? "" : "s"}`,
      run.startMs ?? Date.now(),
    );
  }

  onHostStep(e: HostStep): void {
    if (this.o.verbosity >= 1 && e.step === "allocating") this.line(`Allocating ${e.host ?? ""} (${e.backend}:${e.system})...`, e.time);
    if (this.o.verbosity >= 1 && e.step === "discarding") this.line(`Discarding ${e.host ?? ""}...`, e.time);
  }

  onHostAllocated(host: HostState): void {
    if (this.o.verbosity >= 1)
      this.line(`Allocated ${host.name} (${host.backend}:${host.system}) at ${host.address}.`, host.allocatedMs ?? Date.now());
  }

  onHostDiscarded(_host: HostState, e: HostDiscarded): void {
    if (e.reason) this.line(this.c.yellow(`WARNING: ${e.host}: ${neutralize(e.reason)}`), e.time);
  }

  onStageStart(stage: StageState, run: RunModel): void {
    this.model = run;
    this.line(
      this.c.bold(`Stage ${stage.index}/${run.scenario?.totalStages ?? 0}: ${stage.name}, on ${foldHostlist(stage.hosts)}`),
      stage.startMs,
    );
  }

  onOutput(e: Output): void {
    if (this.o.verbosity >= 1) this.screen.write(`${this.c.cyan(e.host)}: ${neutralize(e.line)}${e.partial ? "" : "\n"}`);
  }

  onStepEnd(step: StepState): void {
    for (const x of this.running)
      if (x.stageIndex === step.stageIndex && x.host === step.host && x.job === step.job && x.item === step.item) this.running.delete(x);
    this.screen.schedule();
    const c = this.c;
    const v = this.o.verbosity;
    const time = step.endMs ?? step.startMs;
    if (step.status === "passed" && v >= 1)
      this.line(`${step.host}: ${stepName(step)}: ${c.green("ok")} (${elapsed(step.durationMs)})`, time);
    if (step.status === "failed") this.line(c.red(`${step.host}: ${stepName(step)}: FAILED: ${neutralize(step.error ?? "failed")}`), time);
    if (step.status === "ignored")
      this.line(c.yellow(`${step.host}: ${stepName(step)}: failed, ignored: ${neutralize(step.error ?? "failed")}`), time);
    if (step.status === "stopped" && v >= 1) this.line(`${step.host}: ${stepName(step)}: stopped`, time);
  }

  onServiceStart(e: ServiceStarted): void {
    if (this.o.verbosity >= 1) this.line(`${e.host}: service ${e.service} started${e.endpoint ? ` at ${e.endpoint}` : ""}`, e.time);
  }

  onServiceStop(e: ServiceStopped): void {
    if (!e.expected)
      this.line(
        this.c.yellow(
          `${e.host}: service ${e.service} exited by itself (${e.reason ?? (e.exitCode === null ? "killed" : `exit status ${e.exitCode}`)})`,
        ),
        e.time,
      );
    else if (this.o.verbosity >= 1) this.line(`${e.host}: service ${e.service} stopped`, e.time);
  }

  /** One line per kept log: where its copy is (`log: summary` printed its last lines just before). */
  onLogKept(e: LogKept, run: RunModel): void {
    const what = `${e.host}: ${e.service !== undefined ? `service ${e.service}` : stepName(e)}`;
    if (e.file === undefined) {
      this.line(
        this.c.yellow(`WARNING: ${what}: its log was not fetched from ${e.hostFile} on the host: ${neutralize(e.error ?? "")}`),
        e.time,
      );
      return;
    }
    if (this.o.verbosity < 1) return;
    const size = `${e.lines} line${e.lines === 1 ? "" : "s"}, ${formatBytes(e.bytes)}`;
    const where = run.dir ? join(run.dir, e.file) : e.file;
    const shown = e.shown > 0 ? `the last ${e.shown === 1 ? "line" : `${e.shown} lines`} above; ` : "";
    this.line(`${what}: log kept on the host (${size}; ${shown}all in ${where})`, e.time);
  }

  onPrometheus(e: PrometheusUpdated): void {
    this.line(
      `Prometheus${e.host ? ` on ${e.host}` : ""} at ${e.url} scrapes ${e.targets.length} target${e.targets.length === 1 ? "" : "s"} (data in ${e.dir})`,
      e.time,
    );
  }

  onVarsUpdated(e: VarsUpdated): void {
    if (this.o.verbosity < 1) return;
    const parts = Object.entries(e.changes).map(([k, x]) => (x === null ? `removed vars.${k}` : `vars.${k} = ${short(JSON.stringify(x))}`));
    if (parts.length) this.line(`${e.host}: ${e.job}: ${neutralize(parts.join(", "))}`, e.time);
  }

  onMessage(e: Message): void {
    if (e.level === "debug" && this.o.verbosity < 2) return;
    const c = this.c;
    const text = neutralize(e.text);
    this.line(e.level === "error" ? c.red(`ERROR: ${text}`) : e.level === "warn" ? c.yellow(`WARNING: ${text}`) : text, e.time);
  }

  onScenarioEnd(run: RunModel): void {
    const s = run.scenario;
    if (!s) return;
    const c = this.c;
    const time = run.endMs ?? Date.now();
    const steps = s.stages.flatMap((x) => x.steps);
    const failed = steps.filter((x) => x.status === "failed").length;
    const ignored = steps.filter((x) => x.status === "ignored").length;
    const counts =
      `${s.stages.length} of ${s.totalStages} stage${s.totalStages === 1 ? "" : "s"}, ${steps.length} step${steps.length === 1 ? "" : "s"}` +
      (failed ? `, ${failed} failed` : "") +
      (ignored ? `, ${ignored} failed and ignored` : "");
    if (s.status === "passed") this.line(c.green(`Scenario passed: ${counts} in ${formatElapsed(s.durationMs)}`), time);
    else if (s.status === "interrupted") this.line(c.yellow(`Scenario interrupted: ${counts}; hosts discarded`), time);
    else if (s.status === "error") this.line(c.red(`Scenario stopped: ${neutralize(s.error ?? "error")}`), time);
    else if (s.failure) {
      this.line(c.red(`Scenario failed: ${neutralize(describeFailure(s.failure))}`), time);
      const out = s.failure.output?.replace(/\n+$/, "") ?? "";
      if (out !== "") this.screen.write(`-----\n${neutralize(tail(out, 20))}\n-----\n`);
    }
    if (run.dir) this.line(`Results: ${run.dir}`, time);
    this.screen.flush();
  }
}

function stepName(e: { job: string; item?: string }): string {
  return e.item !== undefined ? `${e.job} [item ${e.item}]` : e.job;
}

function elapsed(ms: number): string {
  return ms < 1000 ? `${(ms / 1000).toFixed(1)}s` : formatElapsed(ms);
}

function short(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `stage 2/3 "fetch", job "get", host node-3, item 5: exit status 1` */
export function describeFailure(f: ScenarioFailure): string {
  const parts = [`stage ${f.stageIndex} "${f.stage}"`];
  if (f.job) parts.push(`job "${f.job}"`);
  if (f.host) parts.push(`host ${f.host}`);
  if (f.item !== undefined) parts.push(`item ${f.item}`);
  return `${parts.join(", ")}: ${f.reason}`;
}
