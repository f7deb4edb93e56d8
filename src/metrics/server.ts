// What startPrometheus and startPrometheusOn take and give back, and the
// time limits both honour.

import type { ScrapeTarget } from "./config.js";
import type { QueryResult } from "./query.js";

/** How long Prometheus may take to answer /-/ready. */
export const READY_TIMEOUT_MS = 60_000;
/** How long stop() waits after SIGTERM before SIGKILL. */
export const STOP_TIMEOUT_MS = 20_000;
export const POLL_MS = 200;

export interface StartPrometheusOptions {
  /** Config (prometheus.yml, targets.json), data (data/) and log (prometheus.log) go here, on the orchestrator. */
  readonly dir: string;
  readonly targets: readonly ScrapeTarget[];
  /** Prometheus duration, e.g. "5s" (default "5s"). */
  readonly scrapeInterval?: string;
  /**
   * host:port to listen on. On the orchestrator: 127.0.0.1 and a free port by
   * default. On a host: 0.0.0.0:9090 by default (the next port when 9090 is taken).
   */
  readonly listen?: string;
  /** The prometheus binary: a path, or a name looked up in PATH (default "prometheus"). */
  readonly binary?: string;
  /** Aborting stops the server (as stop() does). */
  readonly signal?: AbortSignal;
}

export interface PrometheusServer {
  /** e.g. http://127.0.0.1:40123, or http://10.213.0.5:9090 on a host */
  readonly url: string;
  /** The directory on the orchestrator that holds (or, for a host, receives at stop()) the config, log and data. */
  readonly dir: string;
  /** Its process id, on the machine it runs on. */
  readonly pid: number;
  /** The transport label of the host it runs on; absent on the orchestrator. */
  readonly host?: string;
  /** Replace the scrape targets (Prometheus picks the file up within a second or two). */
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
  /** An instant query. */
  query(promql: string): Promise<QueryResult>;
  /** Wait until every current target has been scraped successfully; throws E_SCENARIO with the targets' errors at the timeout. */
  waitForTargets(timeoutMs: number): Promise<void>;
  /** SIGTERM, wait (SIGKILL after a timeout); on a host, then fetch its data into dir. Safe to call more than once. */
  stop(): Promise<void>;
}
