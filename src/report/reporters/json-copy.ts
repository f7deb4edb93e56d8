// `--json=FILE`: a copy of run.json where the user wants it, written once
// the run is over; `--json` alone ("-"): printed on stdout.

import { toJson, writeJson } from "../json.js";
import { printJson } from "../stdout-json.js";
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
      const json = withRunProcess(toRunJson(run, this.now()));
      if (this.path === "-") return await printJson(toJson(json));
      await writeJson(json, this.path);
    } catch (err) {
      throw new Error(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
