// `report.html` in the run's folder, written once the run is over (see
// ../html/page.ts, and ../html/scenario-page.ts for `troupe play`); with
// `--html`, its path is said at the end.

import { existsSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { artifactsDirOf, type ArtifactLayout } from "../artifacts.js";
import type { Writable } from "node:stream";
import { writeFileAtomic } from "../atomic.js";
import { reportPage } from "../html/page.js";
import { scenarioPage } from "../html/scenario-page.js";
import type { RunModel } from "../model/run-model.js";
import type { Reporter } from "../reporter.js";
import { toRunJson } from "../run-json.js";
import { toScenarioJson } from "../scenario-json.js";

export const REPORT_FILE = "report.html";

export class HtmlReport implements Reporter {
  readonly path: string;

  constructor(
    runDir: string,
    /** Where to say the report's path (`--html`), if anywhere. */
    private readonly announce: Writable | undefined,
    private readonly now: () => number = Date.now,
    /** A run's report (jobs) or a scenario's (stages and steps). */
    private readonly kind: "run" | "scenario" = "run",
    /** `--artifacts DIR`: each job's artifacts that were fetched are linked. */
    private readonly artifactsDir?: string,
    private readonly artifactLayout: ArtifactLayout = "portable",
  ) {
    this.path = join(runDir, REPORT_FILE);
  }

  /** Each job whose artifacts folder is there, and its path relative to the page. */
  private artifacts(run: RunModel): Map<string, string> {
    const found = new Map<string, string>();
    if (!this.artifactsDir) return found;
    for (const name of run.jobs.keys()) {
      const dir = artifactsDirOf(this.artifactsDir, name, { layout: this.artifactLayout });
      if (existsSync(dir)) found.set(name, relative(dirname(this.path), dir).split(sep).join("/") + "/");
    }
    return found;
  }

  async finish(run: RunModel): Promise<void> {
    try {
      const page =
        this.kind === "run"
          ? reportPage(toRunJson(run, this.now()), { artifacts: this.artifacts(run) })
          : scenarioPage(toScenarioJson(run));
      await writeFileAtomic(this.path, page);
    } catch (err) {
      throw new Error(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    const shown = relative(process.cwd(), this.path);
    this.announce?.write(`HTML report: ${shown.startsWith("..") ? this.path : shown}\n`);
  }
}
