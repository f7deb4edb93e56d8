// The `prometheus:` section: a Prometheus server on the orchestrator that
// scrapes every service declaring `metrics:`, keeping its data in the run's
// results folder (`.troupe/runs/<id>/prometheus/`).
//
// The server itself lives in src/metrics/prometheus.ts (another branch):
//   startPrometheus(opts: { dir; targets: {job; url; labels?}[]; scrapeInterval?; listen? })
//     -> Promise<{ url: string; stop(): Promise<void> }>
// Its target list is fixed when it starts, so the scenario (re)starts it at
// the end of a stage whose services changed the list of targets; the data
// directory stays the same, so nothing scraped is lost.

import { join } from "node:path";
import type { EventStream } from "../report/events.js";
import type { PrometheusPlan } from "./types.js";

export interface MetricsTarget {
  readonly job: string;
  readonly url: string;
  readonly labels?: Record<string, string>;
}

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

// ====================================================================== WIRING
// The one call site of src/metrics/prometheus.ts. After merging both branches,
// replace the body with:
//
//   import { startPrometheus } from "../metrics/prometheus.js";
//   ...
//   return startPrometheus({ dir, targets: [...targets], ...(scrapeInterval ? { scrapeInterval } : {}) });
//
// and remove the warning below (and the `launched` flag's message).
async function launch(dir: string, targets: readonly MetricsTarget[], scrapeInterval: string | undefined, events: EventStream): Promise<Server | undefined> {
  void dir;
  void targets;
  void scrapeInterval;
  events.message("warn", "prometheus: this build of troupe has no Prometheus support yet; the prometheus: section is ignored");
  return undefined;
}
// ================================================================== END WIRING

export class ScenarioMetrics {
  private server: Server | undefined;
  private key = "";
  private warned = false;

  constructor(
    private readonly plan: PrometheusPlan | undefined,
    private readonly runDir: string,
    private readonly events: EventStream,
  ) {}

  /** Make the server scrape exactly `targets` (no-op without a prometheus: section, or when nothing changed). */
  async sync(targets: readonly MetricsTarget[]): Promise<void> {
    if (!this.plan || targets.length === 0) return;
    const key = JSON.stringify([...targets].map((t) => t.url).sort());
    if (key === this.key) return;
    this.key = key;
    await this.server?.stop();
    this.server = undefined;
    if (this.warned) return;
    this.server = await launch(join(this.runDir, "prometheus"), targets, this.plan.scrapeInterval, this.events);
    if (!this.server) this.warned = true;
    else this.events.message("info", `Prometheus at ${this.server.url} scrapes ${targets.length} target(s)`);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
