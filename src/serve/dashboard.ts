// The live dashboard (`--serve`): a reporter that serves the run's report
// page while the run goes on. It reads the same run model as every other
// reporter and renders the same page as report.html; each change of the
// model tells the server, which sends browsers the page's new parts (see
// server.ts). The run's end closes it: the run never waits for a browser.

import type { Writable } from "node:stream";
import { reportPage, reportParts } from "../report/html/page.js";
import { scenarioPage, scenarioParts } from "../report/html/scenario-page.js";
import type { RunModel } from "../report/model/run-model.js";
import type { Reporter } from "../report/reporter.js";
import { toRunJson } from "../report/run-json.js";
import { toScenarioJson } from "../report/scenario-json.js";
import { exposureWarning, parseServeAddress } from "./address.js";
import { LiveServer, type LiveView } from "./server.js";

export interface DashboardOptions {
  /** `--serve`'s value: true (loopback, a free port), `PORT` or `ADDR:PORT`. */
  readonly serve: string | true;
  readonly runDir: string;
  readonly kind: "run" | "scenario";
  /** Where the URL is said (null: nowhere). */
  readonly out: Writable | null;
  /** Where a warning about the address is said. */
  readonly err: Writable | null;
  readonly now?: () => number;
}

export class LiveDashboard implements Reporter {
  private model: RunModel | undefined;

  private constructor(
    private readonly server: LiveServer,
    readonly url: string,
  ) {}

  /** Listen (before the run starts, so that a bad address stops it) and say where. */
  static async start(o: DashboardOptions): Promise<LiveDashboard> {
    const address = parseServeAddress(o.serve);
    const warning = exposureWarning(address);
    if (warning) o.err?.write(warning + "\n");
    const now = o.now ?? Date.now;
    let model: RunModel | undefined;
    const view: LiveView =
      o.kind === "run"
        ? {
            page: () => reportPage(toRunJson(model!, now()), { live: true }),
            parts: () => JSON.stringify(reportParts(toRunJson(model!, now()))),
          }
        : {
            page: () => scenarioPage(toScenarioJson(model!), { live: true }),
            parts: () => JSON.stringify(scenarioParts(toScenarioJson(model!))),
          };
    const server = await LiveServer.start({ address, root: o.runDir, view });
    const dashboard = new LiveDashboard(server, server.url);
    dashboard.bind = (m) => (model = m);
    o.out?.write(`Live dashboard: ${server.url}\n`);
    return dashboard;
  }

  /** Set by start(): the model the view reads. */
  private bind: (m: RunModel) => void = () => undefined;

  /** Show this run (attachReporters gives its hub's model). */
  watch(model: RunModel): void {
    this.model = model;
    this.bind(model);
  }

  private changed(run: RunModel): void {
    if (this.model !== run) this.watch(run);
    this.server.changed();
  }

  onRunStart = (run: RunModel): void => this.changed(run);
  onHostAllocated = (_h: unknown, run: RunModel): void => this.changed(run);
  onHostDiscarded = (_h: unknown, _e: unknown, run: RunModel): void => this.changed(run);
  onWorkerBroken = (_e: unknown, run: RunModel): void => this.changed(run);
  onJobStart = (_j: unknown, run: RunModel): void => this.changed(run);
  onHookStart = (_h: unknown, run: RunModel): void => this.changed(run);
  onHookEnd = (_h: unknown, _e: unknown, run: RunModel): void => this.changed(run);
  onJobEnd = (_j: unknown, run: RunModel): void => this.changed(run);
  onSyncWait = (_j: unknown, run: RunModel): void => this.changed(run);
  onRunEnd = (run: RunModel): void => this.changed(run);
  onScenarioStart = (run: RunModel): void => this.changed(run);
  onStageStart = (_s: unknown, run: RunModel): void => this.changed(run);
  onStepStart = (_s: unknown, run: RunModel): void => this.changed(run);
  onStepEnd = (_s: unknown, run: RunModel): void => this.changed(run);
  onStageEnd = (_s: unknown, run: RunModel): void => this.changed(run);
  onServiceStart = (_e: unknown, run: RunModel): void => this.changed(run);
  onServiceStop = (_e: unknown, run: RunModel): void => this.changed(run);
  onVarsUpdated = (_e: unknown, run: RunModel): void => this.changed(run);
  onLogKept = (_e: unknown, run: RunModel): void => this.changed(run);
  onScenarioEnd = (run: RunModel): void => this.changed(run);

  private closing: Promise<void> | undefined;

  /** The run is over (the model is final): browsers get its last state, then the server closes. */
  close(): void {
    this.closing ??= this.server.close();
  }

  async finish(): Promise<void> {
    this.close();
    await this.closing;
  }
}
