// The runs in a results folder (`.troupe/runs/<run-id>/`), read back from
// their run.json (a test run) or scenario.json (a scenario): what
// `troupe runs` lists and shows, and what the next run checks for runs
// that were killed.

import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { RunJson } from "../report/run-json.js";
import { SCENARIO_JSON, type ScenarioJson } from "../report/scenario-json.js";
import { processGone, type RunProcess } from "./process.js";

/** A run id: `20261122-093012-3f9a`. */
const RUN_ID = /^\d{8}-\d{6}-[0-9a-f]{4,}$/;

export interface RunRecord {
  readonly id: string;
  readonly dir: string;
  readonly kind: "run" | "scenario" | "unknown";
  /** As its file says, or `killed` when it says `running` and its process is gone; `unknown` with no file. */
  readonly status: string;
  /** Its file said `running` but its process is gone. */
  readonly killed: boolean;
  readonly startTime?: string;
  readonly durationMs?: number;
  readonly counts?: {
    readonly total: number;
    readonly passed: number;
    readonly failed: number;
    readonly aborted: number;
    readonly skipped: number;
  };
  /** Its HTML report is there (a run writes it when it ends). */
  readonly report?: boolean;
  /** The results file it was read from. */
  readonly file?: string;
  readonly run?: RunJson;
  readonly scenario?: ScenarioJson;
}

/** The run ids in `runsDir`, oldest first (ids sort by time). */
export async function runIds(runsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names.filter((n) => RUN_ID.test(n)).sort();
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** One run as its folder holds it. */
export async function readRun(runsDir: string, id: string): Promise<RunRecord> {
  const dir = join(runsDir, id);
  const runFile = join(dir, "run.json");
  const run = await readJson<RunJson & { process?: RunProcess }>(runFile);
  if (run) {
    const killed = run.status === "killed" || (run.status === "running" && processGone(run.process));
    const t = run.totals;
    return {
      id,
      dir,
      kind: "run",
      status: killed
        ? "killed"
        : run.status === "finished"
          ? t.failed || t.aborted || run.failedHooks.length
            ? "failed"
            : "passed"
          : run.status,
      killed,
      startTime: run.startTime,
      durationMs: run.durationMs,
      counts: { total: t.jobs, passed: t.passed, failed: t.failed, aborted: t.aborted, skipped: t.skipped },
      file: runFile,
      report: existsSync(join(dir, "report.html")),
      run,
    };
  }
  const scenarioFile = join(dir, SCENARIO_JSON);
  const scenario = await readJson<ScenarioJson & { process?: RunProcess }>(scenarioFile);
  if (scenario) {
    const killed = scenario.status === "killed" || (scenario.status === "running" && processGone(scenario.process));
    const steps = scenario.stages.flatMap((s) => s.steps);
    const n = (s: string): number => steps.filter((x) => x.status === s).length;
    return {
      id,
      dir,
      kind: "scenario",
      status: killed ? "killed" : scenario.status,
      killed,
      startTime: scenario.startedAt,
      durationMs: scenario.durationMs,
      counts: { total: steps.length, passed: n("passed"), failed: n("failed"), aborted: n("stopped"), skipped: n("ignored") },
      file: scenarioFile,
      report: existsSync(join(dir, "report.html")),
      scenario,
    };
  }
  const st = await stat(dir).catch(() => undefined);
  return { id, dir, kind: "unknown", status: "unknown", killed: false, ...(st ? { startTime: st.birthtime.toISOString() } : {}) };
}

/** Every run in `runsDir`, oldest first (by start time: ids of the same second sort by chance). */
export async function readRuns(runsDir: string): Promise<RunRecord[]> {
  const runs = await Promise.all((await runIds(runsDir)).map((id) => readRun(runsDir, id)));
  const at = (r: RunRecord): number => (r.startTime ? Date.parse(r.startTime) : 0) || 0;
  return runs.sort((a, b) => a.id.slice(0, 15).localeCompare(b.id.slice(0, 15)) || at(a) - at(b) || a.id.localeCompare(b.id));
}
