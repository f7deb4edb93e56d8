// Talking to a running Prometheus over its HTTP API, wherever it runs:
// readiness, instant queries, and waiting until its targets are up. Shared by
// the server on the orchestrator (prometheus.ts) and the one on a host
// (remote.ts).

import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../util/errors.js";
import type { ScrapeTarget } from "./config.js";
import { apiGet, queryPath, type ActiveTarget, type QueryResult } from "./query.js";
import { errorText } from "../util/text.js";

const POLL_MS = 200;

/**
 * Whether `url` answers /-/ready with 200, and is the server started with
 * `configFile`: another server may hold the port ours failed to bind.
 */
export async function isReady(url: string, configFile: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    if (!res.ok) return false;
    const flags = await apiGet<Record<string, string>>(url, "/api/v1/status/flags", AbortSignal.timeout(2000));
    return flags["config.file"] === configFile;
  } catch {
    return false;
  }
}

/** An instant query; a TroupeError (E_SCENARIO) with Prometheus' own message when it fails. */
export async function query(url: string, promql: string): Promise<QueryResult> {
  try {
    return await apiGet<QueryResult>(url, queryPath(promql));
  } catch (e) {
    throw new TroupeError("E_SCENARIO", `prometheus query ${promql}: ${errorText(e)}`);
  }
}

/**
 * Wait until Prometheus knows every target of `targets` and has scraped each
 * successfully; at the timeout a TroupeError (E_SCENARIO) names the targets
 * that are down and why.
 */
export async function waitForTargets(url: string, targets: () => readonly ScrapeTarget[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const want = new Set(targets().map((t) => t.url)).size;
    try {
      // Every active target is one of ours: troupe's servers scrape nothing else.
      const { activeTargets } = await apiGet<{ activeTargets: ActiveTarget[] }>(url, "/api/v1/targets?state=active");
      const down = activeTargets.filter((t) => t.health !== "up");
      if (activeTargets.length >= want && down.length === 0) return;
      last =
        down.map((t) => `${t.scrapeUrl}: ${t.health}${t.lastError ? ` (${t.lastError})` : ""}`).join("; ") ||
        `${activeTargets.length}/${want} targets known`;
    } catch (e) {
      last = errorText(e);
    }
    if (Date.now() > end) throw new TroupeError("E_SCENARIO", `prometheus: targets not up within ${timeoutMs / 1000}s: ${last}`);
    await sleep(POLL_MS);
  }
}
