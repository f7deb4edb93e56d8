// The `prometheus:` section: a Prometheus server on the orchestrator that
// scrapes every service declaring `metrics:`, keeping its config, data and
// log in the run's results folder (`.troupe/runs/<id>/prometheus/`).
//
// The server (src/metrics/) starts after the first stage that leaves a
// service with metrics running; later changes only rewrite its targets file
// (file_sd), so nothing restarts and nothing scraped is lost. After each
// change troupe waits until the targets have been scraped once, so the next
// stage can query them (templates see `prometheus.url` and `prometheus.dir`).

import { join } from "node:path";
import { startPrometheus, type PrometheusServer } from "../metrics/prometheus.js";
import { findBinary } from "../metrics/process.js";
import type { EventStream } from "../report/events.js";
import type { PrometheusPlan } from "./types.js";
import { errorText } from "../util/text.js";

/** How long troupe waits for new targets to be scraped once before going on (with a warning). */
const TARGETS_WAIT_MS = 30_000;

export interface MetricsTarget {
  readonly job: string;
  readonly url: string;
  readonly labels?: Record<string, string>;
}

export class ScenarioMetrics {
  private server: PrometheusServer | undefined;
  private key = "";

  constructor(
    private readonly plan: PrometheusPlan | undefined,
    private readonly runDir: string,
    private readonly events: EventStream,
    private readonly signal: AbortSignal,
    /** The prometheus binary (a path or a name in PATH); for tests and odd installs. */
    private readonly binary?: string,
  ) {}

  /** Fail early (before any host comes up) when the section asks for a Prometheus this machine does not have. */
  check(): void {
    if (this.plan) findBinary(this.binary ?? "prometheus");
  }

  /** What templates see as `prometheus` (nothing before the server runs). */
  scope(): { url: string; dir: string } | undefined {
    return this.server ? { url: this.server.url, dir: this.server.dir } : undefined;
  }

  /** Make the server scrape exactly `targets` (no-op without a prometheus: section, or when nothing changed). Throws TroupeError when it cannot start. */
  async sync(targets: readonly MetricsTarget[]): Promise<void> {
    if (!this.plan) return;
    const key = JSON.stringify([...targets].map((t) => `${t.job}\0${t.url}`).sort());
    if (key === this.key) return;
    if (!this.server && targets.length === 0) return;
    this.key = key;
    if (!this.server) {
      this.server = await startPrometheus({
        dir: join(this.runDir, "prometheus"),
        targets,
        signal: this.signal,
        ...(this.plan.scrapeInterval ? { scrapeInterval: this.plan.scrapeInterval } : {}),
        ...(this.binary ? { binary: this.binary } : {}),
      });
    } else {
      await this.server.setTargets(targets);
    }
    this.events.emit({ type: "prometheus-updated", url: this.server.url, dir: this.server.dir, targets: targets.map((t) => t.url) });
    if (targets.length === 0) return;
    try {
      await this.server.waitForTargets(TARGETS_WAIT_MS);
    } catch (e) {
      if (!this.signal.aborted) this.events.message("warn", errorText(e));
    }
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
