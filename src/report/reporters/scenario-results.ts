// scenario.json in the run's results directory, and a copy where
// `--json=FILE` says (`--json` alone, "-": on stdout), written once the
// scenario is over.

import { makeDirs } from "../../util/mkdirs.js";
import { copyFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../atomic.js";
import type { RunModel } from "../model/run-model.js";
import type { Reporter } from "../reporter.js";
import { printJson } from "../stdout-json.js";
import { SCENARIO_JSON, toScenarioJson, type ScenarioJson } from "../scenario-json.js";

export class ScenarioResultsFile implements Reporter {
  /** What was written last. */
  last: ScenarioJson | undefined;

  constructor(
    private readonly runDir: string,
    private readonly copy?: string,
  ) {}

  async finish(run: RunModel): Promise<void> {
    const json = toScenarioJson(run);
    this.last = json;
    if (!json) return;
    const path = join(this.runDir, SCENARIO_JSON);
    try {
      await makeDirs(this.runDir);
      const text = JSON.stringify(json, null, 2) + "\n";
      await writeFileAtomic(path, text);
      if (this.copy === "-") await printJson(text);
      else if (this.copy) {
        await makeDirs(dirname(this.copy));
        await copyFile(path, this.copy);
      }
    } catch (err) {
      throw new Error(`cannot write the scenario's results: ${(err as Error).message}`, { cause: err });
    }
  }
}
