// The `prometheus:` section: a Prometheus server that scrapes every service
// declaring `metrics:`, keeping its config, data and log in the run's results
// folder (`.troupe/runs/<id>/prometheus/`).
//
// On the orchestrator (the default) the server starts after the first stage
// that leaves a service with metrics running. On a host (`on: HOST`, or
// Octogram's `prometheus_agent`) it starts as soon as the hosts are up, as
// Octogram starts it before its agents, so a host without Prometheus stops
// the scenario before any stage; it scrapes the services as that host sees
// them, and its data comes back into the results folder when it stops.
// Later changes only rewrite its targets file (file_sd), so nothing restarts
// and nothing scraped is lost. After each change troupe waits until the
// targets have been scraped once, so the next stage can query them
// (templates see `prometheus.url` and `prometheus.dir`).

import { join } from "node:path";
import type { Host } from "../backends/backend.js";
import { startPrometheus, type PrometheusServer } from "../metrics/prometheus.js";
import { startPrometheusOn } from "../metrics/remote.js";
import { findBinary } from "../metrics/process.js";
import type { EventStream } from "../report/events.js";
import type { PrometheusPlan } from "./types.js";
import { TroupeError } from "../util/errors.js";
import { errorText } from "../util/text.js";

/** How long troupe waits for new targets to be scraped once before going on (with a warning). */
const TARGETS_WAIT_MS = 30_000;

export interface MetricsTarget {
  readonly job: string;
  readonly url: string;
  readonly labels?: Record<string, string>;
}

/** A loopback address: the machine that uses it, not the one that wrote it. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The targets as the host `on` sees them (pure): a service's loopback URL
 * (`http://127.0.0.1:9100/metrics` written on node-2) means node-2's own
 * loopback, so a Prometheus on another host scrapes node-2's address
 * instead. `addressOf` gives a host's address as the others reach it.
 */
export function targetsSeenFrom(
  on: string,
  targets: readonly MetricsTarget[],
  addressOf: (host: string) => string | undefined,
): MetricsTarget[] {
  return targets.map((t) => {
    const from = t.labels?.["host"];
    if (from === undefined || from === on) return t;
    const addr = addressOf(from);
    let u: URL;
    try {
      u = new URL(t.url);
    } catch {
      return t; // config.ts says what is wrong with it
    }
    if (!addr || !isLoopback(u.hostname) || isLoopback(addr)) return t;
    u.hostname = addr.includes(":") && !addr.startsWith("[") ? `[${addr}]` : addr;
    return { ...t, url: u.toString() };
  });
}

/** What tells one set of targets from another (their order aside). */
function keyOf(targets: readonly MetricsTarget[]): string {
  return JSON.stringify(targets.map((t) => `${t.job}\0${t.url}`).sort());
}

export class ScenarioMetrics {
  private server: PrometheusServer | undefined;
  private key = "";

  constructor(
    private readonly plan: PrometheusPlan | undefined,
    private readonly runDir: string,
    private readonly events: EventStream,
    private readonly signal: AbortSignal,
    /** The prometheus binary (a path or a name in PATH); for tests and odd installs. The section's binary: comes first. */
    private readonly binary?: string,
    /** The scenario's allocated hosts, by name (for `on: HOST`). */
    private readonly hostOf: (name: string) => Host | undefined = () => undefined,
  ) {}

  private get binaryName(): string | undefined {
    return this.plan?.binary ?? this.binary;
  }

  /** Fail early (before any host comes up) when the section asks for a Prometheus this machine does not have. */
  check(): void {
    if (this.plan && !this.plan.host) findBinary(this.binaryName ?? "prometheus");
  }

  /** Once the hosts are up: a server on a host starts now (one on the orchestrator waits for its first targets). */
  async start(): Promise<void> {
    if (this.plan?.host && !this.server) await this.launch([]);
  }

  /** What templates see as `prometheus` (nothing before the server runs). */
  scope(): { url: string; dir: string } | undefined {
    return this.server ? { url: this.server.url, dir: this.server.dir } : undefined;
  }

  /** Make the server scrape exactly `targets` (no-op without a prometheus: section, or when nothing changed). Throws TroupeError when it cannot start. */
  async sync(services: readonly MetricsTarget[]): Promise<void> {
    if (!this.plan) return;
    const on = this.plan.host;
    const targets = on ? targetsSeenFrom(on, services, (h) => this.hostOf(h)?.address) : [...services];
    const key = keyOf(targets);
    if (key === this.key) return;
    if (!this.server && targets.length === 0) return;
    if (!this.server) await this.launch(targets);
    else {
      this.key = key;
      await this.server.setTargets(targets);
      this.updated(targets);
    }
    if (targets.length === 0) return;
    try {
      await this.server!.waitForTargets(TARGETS_WAIT_MS);
    } catch (e) {
      if (!this.signal.aborted) this.events.message("warn", errorText(e));
    }
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private async launch(targets: readonly MetricsTarget[]): Promise<void> {
    const plan = this.plan!;
    const dir = join(this.runDir, "prometheus");
    const common = {
      dir,
      targets,
      signal: this.signal,
      ...(plan.scrapeInterval ? { scrapeInterval: plan.scrapeInterval } : {}),
      ...(this.binaryName ? { binary: this.binaryName } : {}),
    };
    if (plan.host) {
      const host = this.hostOf(plan.host);
      if (!host) throw new TroupeError("E_SCENARIO", `prometheus: host ${plan.host} is not up`);
      this.events.message("info", `starting Prometheus on ${plan.host}`);
      this.server = await startPrometheusOn(host.transport, { ...common, address: host.address, name: plan.host });
    } else {
      this.server = await startPrometheus(common);
    }
    this.key = keyOf(targets);
    this.updated(targets);
  }

  private updated(targets: readonly MetricsTarget[]): void {
    const s = this.server!;
    this.events.emit({
      type: "prometheus-updated",
      url: s.url,
      dir: s.dir,
      ...(this.plan?.host ? { host: this.plan.host } : {}),
      targets: targets.map((t) => t.url),
    });
  }
}
