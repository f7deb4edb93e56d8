// `--json FILE`: a copy of run.json where the user wants it, written once
// the run is over.

import { writeJson } from "../json.js";
import type { RunModel } from "../model/run-model.js";
import type { Reporter } from "../reporter.js";
import { toRunJson } from "../run-json.js";
import { withRunProcess } from "../../runs/process.js";

export class JsonCopy implements Reporter {
  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  async finish(run: RunModel): Promise<void> {
    try {
      await writeJson(withRunProcess(toRunJson(run, this.now())), this.path);
    } catch (err) {
      throw new Error(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
