// The GitHub Actions view of a scenario (`troupe play`): an `::error`
// annotation per failed step at its job in the scenario file, and the step
// summary's tables of stages and steps, failures first. Pure; the
// GitHubActions reporter (github.ts) writes them.

import type { SourcePos } from "../../model/position.js";
import { formatElapsed } from "../format.js";
import { markdownCell, markdownCode, type Annotation } from "../github.js";
import type { ScenarioState, StepState } from "../model/state.js";
import { neutralize } from "../terminal-safe.js";
import { describeFailure } from "./scenario-terminal.js";

/** Where the job at `jobIndex` (0-based) of stage `stageIndex` (1-based) is written, relative to the workspace. */
export type StepLocator = (stageIndex: number, jobIndex: number) => SourcePos | undefined;

/** Rows of passed steps the summary lists; failures are always all listed. */
const PASSED_ROWS = 200;

const ICON: Record<string, string> = {
  passed: "✅",
  failed: "❌",
  ignored: "⚠️",
  stopped: "⏹️",
  running: "⏳",
  interrupted: "⏹️",
  error: "❌",
};

export function scenarioAnnotations(
  s: ScenarioState,
  locate: StepLocator | undefined,
  tail: (text: string | undefined) => string,
): Annotation[] {
  const out: Annotation[] = [];
  for (const stage of s.stages) {
    for (const step of stage.steps) {
      if (step.status !== "failed") continue;
      const pos = step.jobIndex !== undefined ? locate?.(step.stageIndex, step.jobIndex) : undefined;
      const why = describeFailure({ ...step, reason: step.error ?? `exit status ${step.exitCode ?? "?"}` });
      out.push({
        kind: "error",
        title: `troupe: ${step.job} failed on ${step.host}`,
        message: step.output?.trim() ? `${why}\n${tail(step.output)}` : why,
        ...(pos ? { pos } : {}),
      });
    }
  }
  // A scenario that failed outside any step (a host that could not be had, ...).
  if (s.status === "error" && s.error) out.push({ kind: "error", title: `troupe: ${s.scenario} could not run`, message: s.error });
  return out;
}

const RANK: Record<StepState["status"], number> = { failed: 0, stopped: 1, ignored: 2, running: 3, passed: 4 };

export function scenarioSummary(s: ScenarioState, runId: string, dir: string): string {
  const steps = s.stages.flatMap((st) => st.steps);
  const count = (status: StepState["status"]): number => steps.filter((x) => x.status === status).length;
  let md = `### troupe play ${markdownCell(s.scenario)} ${markdownCell(runId)}: ${s.status}\n\n`;
  md += `${count("passed")} steps passed, ${count("failed")} failed, ${count("ignored")} ignored, ${count("stopped")} stopped`;
  md += ` in ${formatElapsed(s.durationMs)}; results in ${markdownCode(dir)}\n\n`;
  if (s.error) md += `${markdownCell(neutralize(s.error))}\n\n`;
  const stageRank = { failed: 0, stopped: 1, running: 2, passed: 3 } as const;
  const stages = [...s.stages].sort((a, b) => stageRank[a.status] - stageRank[b.status] || a.index - b.index);
  if (stages.length > 0) {
    md += "| | stage | hosts | duration |\n| --- | --- | --- | --- |\n";
    for (const st of stages) {
      md += `| ${ICON[st.status]} ${st.status} | ${st.index}/${s.totalStages} ${markdownCode(st.name)} | ${markdownCell(st.hosts.join(", "))} | ${formatElapsed(st.durationMs)} |\n`;
    }
    md += "\n";
  }
  const sorted = [...steps].sort(
    (a, b) =>
      RANK[a.status] - RANK[b.status] ||
      a.stageIndex - b.stageIndex ||
      (a.jobIndex ?? 0) - (b.jobIndex ?? 0) ||
      (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) ||
      a.id - b.id,
  );
  if (sorted.length > 0) {
    md += "| | stage | job | host | item | duration | why |\n| --- | --- | --- | --- | --- | --- | --- |\n";
    let passedRows = 0;
    let hidden = 0;
    for (const x of sorted) {
      if (x.status === "passed" && passedRows++ >= PASSED_ROWS) {
        hidden++;
        continue;
      }
      const why = x.status === "passed" ? "" : (x.error ?? "");
      md +=
        `| ${ICON[x.status]} ${x.status} | ${x.stageIndex} ${markdownCode(x.stage)} | ${markdownCode(x.job)} | ${markdownCell(x.host)} ` +
        `| ${x.item !== undefined ? markdownCode(x.item) : ""} | ${formatElapsed(x.durationMs)} | ${markdownCell(neutralize(why))} |\n`;
    }
    if (hidden > 0) md += `\n${hidden} more passed steps are in scenario.json.\n`;
  }
  return md + "\n";
}
