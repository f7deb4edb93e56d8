// The results of a scenario run, from the event stream: `scenario.json` in
// the run's directory (`.troupe/runs/<id>/`), and one log per host
// (`logs/<host>.log`) holding every line its steps and services printed.

import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../report/atomic.js";
import type { ScenarioFailure, TroupeEvent } from "../report/events.js";
import { formatTimestamp } from "../report/format.js";

export const SCENARIO_JSON = "scenario.json";
export const SCENARIO_JSON_FORMAT = "troupe-scenario/1";

export interface StepJson {
  readonly job: string;
  readonly kind: string;
  readonly host: string;
  readonly item?: string;
  readonly status: string;
  readonly exitCode: number | null;
  readonly error?: string;
  readonly durationMs: number;
  /** The last lines of what the step printed, when it failed. */
  readonly output?: string;
}

export interface StageJson {
  readonly index: number;
  readonly name: string;
  status: string;
  readonly hosts: readonly string[];
  durationMs: number;
  readonly steps: StepJson[];
}

export interface ScenarioJson {
  readonly format: string;
  readonly runId: string;
  readonly scenario: string;
  readonly file?: string;
  status: string;
  exitCode: number | null;
  readonly startedAt: string;
  durationMs: number;
  readonly hosts: { name: string; backend: string; system: string; address?: string; discarded?: boolean; discardError?: string }[];
  readonly stages: StageJson[];
  readonly services: {
    host: string;
    service: string;
    endpoint?: string;
    metrics?: string;
    stopped?: "by troupe" | "by itself";
    exitCode?: number | null;
  }[];
  vars: Record<string, unknown>;
  /** The Prometheus server of the `prometheus:` section, when it ran. */
  prometheus?: { url: string; dir: string; targets: string[] };
  failure?: ScenarioFailure;
  error?: string;
}

export class ScenarioResults {
  private json: ScenarioJson | undefined;
  private readonly logs = new Map<string, WriteStream>();

  constructor(
    private readonly runDir: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  handle(e: TroupeEvent): void {
    if (e.type === "scenario-started") {
      this.json = {
        format: SCENARIO_JSON_FORMAT,
        runId: e.runId,
        scenario: e.scenario,
        ...(e.file ? { file: e.file } : {}),
        status: "running",
        exitCode: null,
        startedAt: new Date(e.time).toISOString(),
        durationMs: 0,
        hosts: [],
        stages: [],
        services: [],
        vars: {},
      };
      return;
    }
    const j = this.json;
    if (!j) return;
    switch (e.type) {
      case "host-allocated":
        j.hosts.push({ name: e.host, backend: e.backend, system: e.system, address: e.address });
        break;
      case "host-discarded": {
        const h = j.hosts.find((x) => x.name === e.host);
        if (h) {
          h.discarded = e.reason === undefined;
          if (e.reason) h.discardError = e.reason;
        }
        break;
      }
      case "stage-started":
        j.stages.push({ index: e.index, name: e.stage, status: "running", hosts: [...e.hosts], durationMs: 0, steps: [] });
        break;
      case "stage-finished": {
        const s = j.stages.find((x) => x.index === e.index);
        if (s) {
          s.status = e.status;
          s.durationMs = e.durationMs;
        }
        break;
      }
      case "step-finished": {
        const s = j.stages.find((x) => x.index === e.stageIndex);
        const out = e.output.replace(/\n+$/, "");
        s?.steps.push({
          job: e.job,
          kind: e.kind,
          host: e.host,
          ...(e.item !== undefined ? { item: e.item } : {}),
          status: e.status,
          exitCode: e.exitCode,
          ...(e.error !== undefined ? { error: e.error } : {}),
          durationMs: e.durationMs,
          ...(e.status !== "passed" && out !== "" ? { output: out.split("\n").slice(-100).join("\n") } : {}),
        });
        break;
      }
      case "service-started":
        j.services.push({
          host: e.host,
          service: e.service,
          ...(e.endpoint ? { endpoint: e.endpoint } : {}),
          ...(e.metrics ? { metrics: e.metrics } : {}),
        });
        break;
      case "prometheus-updated":
        j.prometheus = { url: e.url, dir: e.dir, targets: [...e.targets] };
        break;
      case "service-stopped": {
        const s = [...j.services].reverse().find((x) => x.host === e.host && x.service === e.service);
        if (s) {
          s.stopped = e.expected ? "by troupe" : "by itself";
          s.exitCode = e.exitCode;
        }
        break;
      }
      case "output":
        this.log(e.host, `${formatTimestamp(e.time)} ${e.job}${e.stream === "stderr" ? " (stderr)" : ""}: ${e.line}`);
        break;
      case "scenario-finished":
        j.status = e.status;
        j.exitCode = e.exitCode;
        j.durationMs = e.durationMs;
        j.vars = { ...e.vars };
        if (e.failure) j.failure = e.failure;
        if (e.error) j.error = e.error;
        break;
      default:
        break;
    }
  }

  private log(host: string, line: string): void {
    let s = this.logs.get(host);
    if (!s) {
      const path = join(this.runDir, "logs", `${host}.log`);
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (e) {
        this.onError(e);
        return;
      }
      s = createWriteStream(path, { flags: "a" });
      s.on("error", (e) => this.onError(e));
      this.logs.set(host, s);
    }
    s.write(line + "\n");
  }

  /** Close the logs, write scenario.json (and a copy at `jsonCopy`); resolves to the result. */
  async finish(jsonCopy?: string): Promise<ScenarioJson | undefined> {
    await Promise.all([...this.logs.values()].map((s) => new Promise<void>((r) => s.end(() => r()))));
    this.logs.clear();
    if (!this.json) return undefined;
    const path = join(this.runDir, SCENARIO_JSON);
    try {
      await mkdir(this.runDir, { recursive: true });
      await writeFileAtomic(path, JSON.stringify(this.json, null, 2) + "\n");
      if (jsonCopy) {
        await mkdir(dirname(jsonCopy), { recursive: true });
        await copyFile(path, jsonCopy);
      }
    } catch (e) {
      this.onError(e);
    }
    return this.json;
  }
}
