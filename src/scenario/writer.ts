// The terminal writer of `troupe play`: what a person (or a CI log) sees.
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

import type { Writable } from "node:stream";
import { makeColors, type Colors } from "../report/colors.js";
import type { ScenarioFailure, TroupeEvent } from "../report/events.js";
import { formatElapsed, formatTimestamp, tail, type TimeZone } from "../report/format.js";
import { foldHostlist } from "../util/hostlist.js";

export interface ScenarioTerminalOptions {
  readonly out: Writable;
  readonly verbosity: 0 | 1 | 2;
  readonly color: boolean;
  readonly timeZone?: TimeZone;
}

export class ScenarioTerminal {
  private readonly c: Colors;
  private steps = 0;
  private failedSteps = 0;
  private ignoredSteps = 0;
  private stagesRun = 0;
  private totalStages = 0;
  private dir = "";

  constructor(private readonly o: ScenarioTerminalOptions) {
    this.c = makeColors(o.color);
  }

  private line(text: string, time: number): void {
    this.o.out.write(`${formatTimestamp(time, this.o.timeZone)} ${text}\n`);
  }

  handle(e: TroupeEvent): void {
    const v = this.o.verbosity;
    const c = this.c;
    switch (e.type) {
      case "scenario-started":
        this.totalStages = e.stages;
        this.dir = e.dir;
        this.line(
          `Playing ${e.scenario}${e.file ? ` (${e.file})` : ""}: ${e.hosts.length} host${e.hosts.length === 1 ? "" : "s"}, ${e.stages} stage${e.stages === 1 ? "" : "s"}`,
          e.time,
        );
        break;
      case "host-step":
        if (v >= 1 && e.step === "allocating") this.line(`Allocating ${e.host ?? ""} (${e.backend}:${e.system})...`, e.time);
        if (v >= 1 && e.step === "discarding") this.line(`Discarding ${e.host ?? ""}...`, e.time);
        break;
      case "host-allocated":
        if (v >= 1) this.line(`Allocated ${e.host} (${e.backend}:${e.system}) at ${e.address}.`, e.time);
        break;
      case "host-discarded":
        if (e.reason) this.line(c.yellow(`WARNING: ${e.host}: ${e.reason}`), e.time);
        break;
      case "stage-started":
        this.stagesRun++;
        this.line(c.bold(`Stage ${e.index}/${e.total}: ${e.stage}, on ${foldHostlist(e.hosts)}`), e.time);
        break;
      case "output":
        if (v >= 1) this.o.out.write(`${c.cyan(e.host)}: ${e.line}\n`);
        break;
      case "step-finished":
        this.steps++;
        if (e.status === "failed") this.failedSteps++;
        if (e.status === "ignored") this.ignoredSteps++;
        if (e.status === "passed" && v >= 1) this.line(`${e.host}: ${stepName(e)}: ${c.green("ok")} (${elapsed(e.durationMs)})`, e.time);
        if (e.status === "failed") this.line(c.red(`${e.host}: ${stepName(e)}: FAILED: ${e.error ?? "failed"}`), e.time);
        if (e.status === "ignored") this.line(c.yellow(`${e.host}: ${stepName(e)}: failed, ignored: ${e.error ?? "failed"}`), e.time);
        if (e.status === "stopped" && v >= 1) this.line(`${e.host}: ${stepName(e)}: stopped`, e.time);
        break;
      case "service-started":
        if (v >= 1) this.line(`${e.host}: service ${e.service} started${e.endpoint ? ` at ${e.endpoint}` : ""}`, e.time);
        break;
      case "service-stopped":
        if (!e.expected)
          this.line(
            c.yellow(
              `${e.host}: service ${e.service} exited by itself (${e.reason ?? (e.exitCode === null ? "killed" : `exit status ${e.exitCode}`)})`,
            ),
            e.time,
          );
        else if (v >= 1) this.line(`${e.host}: service ${e.service} stopped`, e.time);
        break;
      case "prometheus-updated":
        this.line(
          `Prometheus at ${e.url} scrapes ${e.targets.length} target${e.targets.length === 1 ? "" : "s"} (data in ${e.dir})`,
          e.time,
        );
        break;
      case "vars-updated":
        if (v >= 1) {
          const parts = Object.entries(e.changes).map(([k, x]) =>
            x === null ? `removed vars.${k}` : `vars.${k} = ${short(JSON.stringify(x))}`,
          );
          if (parts.length) this.line(`${e.host}: ${e.job}: ${parts.join(", ")}`, e.time);
        }
        break;
      case "message":
        if (e.level === "debug" && v < 2) break;
        this.line(e.level === "error" ? c.red(`ERROR: ${e.text}`) : e.level === "warn" ? c.yellow(`WARNING: ${e.text}`) : e.text, e.time);
        break;
      case "scenario-finished":
        this.finish(e.status, e.durationMs, e.time, e.failure, e.error);
        break;
      default:
        break;
    }
  }

  private finish(status: string, durationMs: number, time: number, failure: ScenarioFailure | undefined, error: string | undefined): void {
    const c = this.c;
    const counts =
      `${this.stagesRun} of ${this.totalStages} stage${this.totalStages === 1 ? "" : "s"}, ${this.steps} step${this.steps === 1 ? "" : "s"}` +
      (this.failedSteps ? `, ${this.failedSteps} failed` : "") +
      (this.ignoredSteps ? `, ${this.ignoredSteps} failed and ignored` : "");
    if (status === "passed") this.line(c.green(`Scenario passed: ${counts} in ${formatElapsed(durationMs)}`), time);
    else if (status === "interrupted") this.line(c.yellow(`Scenario interrupted: ${counts}; hosts discarded`), time);
    else if (status === "error") this.line(c.red(`Scenario stopped: ${error ?? "error"}`), time);
    else if (failure) {
      this.line(c.red(`Scenario failed: ${describeFailure(failure)}`), time);
      const out = failure.output?.replace(/\n+$/, "") ?? "";
      if (out !== "") this.o.out.write(`-----\n${tail(out, 20)}\n-----\n`);
    }
    if (this.dir) this.line(`Results: ${this.dir}`, time);
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
