// The shape of `scenario.json`, the record of a `troupe play` run in its
// results directory (`.troupe/runs/<id>/`), and how it is made from the run
// model (toScenarioJson).

import type { ScenarioFailure } from "./events.js";
import type { RunModel } from "./model/run-model.js";
import type { KeptLog } from "./model/state.js";
import type { RunProcess } from "../runs/process.js";

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
  /** When it started (ISO 8601 UTC). */
  readonly startTime?: string;
  /** The last lines of what the step printed, when it failed. */
  readonly output?: string;
  /** Its output kept on the host (log: keep/summary): the fetched copy, relative to the run's folder. */
  readonly log?: KeptLog;
}

export interface StageJson {
  readonly index: number;
  readonly name: string;
  status: string;
  readonly hosts: readonly string[];
  /** When it started (ISO 8601 UTC). */
  readonly startTime?: string;
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
    log?: KeptLog;
  }[];
  vars: Record<string, unknown>;
  /** The Prometheus server of the `prometheus:` section, when it ran (`host`: the scenario host it ran on). */
  prometheus?: { url: string; dir: string; host?: string; targets: string[] };
  failure?: ScenarioFailure;
  error?: string;
  /** The troupe process that wrote it (pid, its start time, the boot, the machine). */
  process?: RunProcess;
}

/** scenario.json as the model holds the scenario now; undefined before it started. */
export function toScenarioJson(m: RunModel): ScenarioJson | undefined {
  const s = m.scenario;
  if (!s) return undefined;
  return {
    format: SCENARIO_JSON_FORMAT,
    runId: m.runId,
    scenario: s.scenario,
    ...(s.file ? { file: s.file } : {}),
    status: s.status,
    exitCode: s.exitCode,
    startedAt: new Date(m.startMs ?? 0).toISOString(),
    durationMs: s.durationMs,
    hosts: [...m.hosts.values()]
      .filter((h) => h.allocatedMs !== undefined)
      .map((h) => ({
        name: h.name,
        backend: h.backend,
        system: h.system,
        address: h.address,
        ...(h.discardedMs !== undefined ? { discarded: h.discardReason === undefined } : {}),
        ...(h.discardReason ? { discardError: h.discardReason } : {}),
      })),
    stages: s.stages.map((st) => ({
      index: st.index,
      name: st.name,
      status: st.status,
      hosts: st.hosts,
      startTime: new Date(st.startMs).toISOString(),
      durationMs: st.durationMs,
      steps: st.steps.map((x) => ({
        job: x.job,
        kind: x.kind,
        host: x.host,
        ...(x.item !== undefined ? { item: x.item } : {}),
        status: x.status,
        exitCode: x.exitCode,
        ...(x.error !== undefined ? { error: x.error } : {}),
        durationMs: x.durationMs,
        startTime: new Date(x.startMs).toISOString(),
        ...(x.output !== undefined ? { output: x.output } : {}),
        ...(x.log ? { log: x.log } : {}),
      })),
    })),
    services: s.services.map((x) => ({
      host: x.host,
      service: x.service,
      ...(x.endpoint ? { endpoint: x.endpoint } : {}),
      ...(x.metrics ? { metrics: x.metrics } : {}),
      ...(x.stopped ? { stopped: x.stopped } : {}),
      ...(x.exitCode !== undefined ? { exitCode: x.exitCode } : {}),
      ...(x.log ? { log: x.log } : {}),
    })),
    vars: { ...s.vars },
    ...(s.prometheus ? { prometheus: s.prometheus } : {}),
    ...(s.failure ? { failure: s.failure } : {}),
    ...(s.error ? { error: s.error } : {}),
  };
}
