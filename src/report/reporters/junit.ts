// `--junit FILE`: JUnit XML of the run (see ../junit.ts for the mapping) or
// of the scenario (../scenario-junit.ts), written once it is over.

import { writeJUnit } from "../junit.js";
import type { RunModel } from "../model/run-model.js";
import type { Reporter } from "../reporter.js";
import { toRunJson } from "../run-json.js";
import { toScenarioJson } from "../scenario-json.js";
import { writeScenarioJUnit } from "../scenario-junit.js";

export class JUnitFile implements Reporter {
  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
    private readonly kind: "run" | "scenario" = "run",
  ) {}

  async finish(run: RunModel): Promise<void> {
    try {
      if (this.kind === "run") await writeJUnit(toRunJson(run, this.now()), this.path);
      else {
        const scenario = toScenarioJson(run);
        if (scenario) await writeScenarioJUnit(scenario, this.path);
      }
    } catch (err) {
      throw new Error(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
