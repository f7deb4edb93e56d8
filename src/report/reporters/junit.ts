// `--junit FILE`: JUnit XML of the run (see ../junit.ts for the mapping),
// written once the run is over.

import { writeJUnit } from "../junit.js";
import type { RunModel } from "../model/run-model.js";
import type { Reporter } from "../reporter.js";
import { toRunJson } from "../run-json.js";

export class JUnitFile implements Reporter {
  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  async finish(run: RunModel): Promise<void> {
    try {
      await writeJUnit(toRunJson(run, this.now()), this.path);
    } catch (err) {
      throw new Error(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
