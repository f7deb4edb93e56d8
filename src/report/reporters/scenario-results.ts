// scenario.json in the run's results directory, and a copy where
// `--json=FILE` says (`--json` alone, "-": on stdout): written when the
// scenario starts (`running`, with the process that runs it, so that a later
// look can tell it was killed) and once it is over.

import { makeDirs } from "../../util/mkdirs.js";
import { copyFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../atomic.js";
import type { RunModel } from "../model/run-model.js";
import type { Reporter } from "../reporter.js";
import { printJson } from "../stdout-json.js";
import { SCENARIO_JSON, toScenarioJson, type ScenarioJson } from "../scenario-json.js";
import { withRunProcess } from "../../runs/process.js";

export class ScenarioResultsFile implements Reporter {
  /** What was written last. */
  last: ScenarioJson | undefined;
  /** The first write, which the last one waits for. */
  private started: Promise<void> | undefined;

  constructor(
    private readonly runDir: string,
    private readonly copy?: string,
  ) {}

  onScenarioStart(run: RunModel): void {
    const json = toScenarioJson(run);
    if (!json) return;
    // A folder that cannot be written is said by the last write, which fails the same way.
    this.started = this.write(json).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Writes scenario.json; returns its text. */
  private async write(json: ScenarioJson): Promise<string> {
    await makeDirs(this.runDir);
    const text = JSON.stringify(withRunProcess(json), null, 2) + "\n";
    await writeFileAtomic(join(this.runDir, SCENARIO_JSON), text);
    return text;
  }

  async finish(run: RunModel): Promise<void> {
    await this.started;
    const json = toScenarioJson(run);
    this.last = json;
    if (!json) return;
    const path = join(this.runDir, SCENARIO_JSON);
    try {
      const text = await this.write(json);
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
