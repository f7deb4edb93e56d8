// Where a scenario's jobs are written, for CI annotations
// (report/reporters/github-scenario.ts). Pure.

import type { StepLocator } from "../report/reporters/github-scenario.js";
import type { ScenarioPlan } from "./types.js";

/** The position of the job (0-based) of the stage (1-based, as events count stages); else the stage's. */
export function stepLocator(plan: ScenarioPlan): StepLocator {
  return (stageIndex, jobIndex) => {
    const stage = plan.stages[stageIndex - 1];
    return stage?.jobs[jobIndex]?.pos ?? stage?.pos;
  };
}
