// A Prometheus server run by troupe: its own process (never the system
// service), its config and data in a directory of the caller's (a run's
// results folder), listening on loopback on a free port. Targets live in a
// file Prometheus re-reads (file_sd), so setTargets() needs no restart.
// stop() sends SIGTERM and waits, so the data written so far stays in dir.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../util/errors.js";
import { prometheusYaml, TARGETS_FILE, targetsJson, type ScrapeTarget } from "./config.js";
import { findBinary, tail, track } from "./process.js";
import { apiGet, queryPath, type ActiveTarget, type QueryResult } from "./query.js";

/** How long Prometheus may take to answer /-/ready. */
const READY_TIMEOUT_MS = 60_000;
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 20_000;
const POLL_MS = 200;

export interface StartPrometheusOptions {
  /** Config (prometheus.yml, targets.json), data (data/) and log (prometheus.log) go here. */
  readonly dir: string;
  readonly targets: readonly ScrapeTarget[];
  /** Prometheus duration, e.g. "5s" (default "5s"). */
  readonly scrapeInterval?: string;
  /** host:port to listen on (default 127.0.0.1 and a free port). */
  readonly listen?: string;
  /** The prometheus binary: a path, or a name looked up in PATH (default "prometheus"). */
  readonly binary?: string;
  /** Aborting stops the server. */
  readonly signal?: AbortSignal;
}

export interface PrometheusServer {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** Replace the scrape targets (Prometheus picks the file up within a second or two). */
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
  /** An instant query. */
  query(promql: string): Promise<QueryResult>;
  /** Wait until every current target has been scraped successfully; throws E_SCENARIO with the targets' errors at the timeout. */
  waitForTargets(timeoutMs: number): Promise<void>;
  /** SIGTERM, wait (SIGKILL after a timeout). Safe to call more than once. */
  stop(): Promise<void>;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  const binary = findBinary(opts.binary ?? "prometheus");
  if (opts.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted before Prometheus started");
  const dir = opts.dir;
  mkdirSync(join(dir, "data"), { recursive: true });
  const targetsFile = join(dir, TARGETS_FILE);
  await writeFile(targetsFile, targetsJson(opts.targets));
  await writeFile(join(dir, "prometheus.yml"), prometheusYaml(targetsFile, opts.scrapeInterval ?? "5s"));
  const listen = opts.listen ?? `127.0.0.1:${await freePort()}`;
  const url = `http://${listen}`;
  const logFile = join(dir, "prometheus.log");
  const log = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(
      binary,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=${listen}`,
        "--web.enable-lifecycle",
      ],
      { cwd: dir, stdio: ["ignore", log, log] },
    );
  } finally {
    closeSync(log);
  }
  track(child);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const done = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once("error", (e) => {
      spawnError = e;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
    })());
  const onAbort = (): void => void stop();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const failed = (why: string): TroupeError => {
    const t = tail(logFile);
    return new TroupeError("E_BACKEND", `prometheus (${binary}) ${why}; see ${logFile}${t ? `:\n${t}` : ""}`);
  };

  // Ready, or exited, or timed out.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw failed(`could not start: ${spawnError.message}`);
    if (exited) throw failed(`exited while starting (${exited.signal ?? `status ${exited.code}`})`);
    if (opts.signal?.aborted) {
      await stop();
      throw new TroupeError("E_INTERRUPTED", "interrupted while Prometheus was starting");
    }
    if (await isReady(url)) break;
    if (Date.now() > deadline) {
      await stop();
      throw failed(`was not ready at ${url}/-/ready within ${READY_TIMEOUT_MS / 1000}s`);
    }
    await sleep(POLL_MS);
  }

  let current = [...opts.targets];
  return {
    url,
    dir,
    pid: child.pid ?? 0,
    async setTargets(targets) {
      current = [...targets];
      // Written aside and renamed: Prometheus never reads half a file.
      await writeFile(`${targetsFile}.tmp`, targetsJson(targets));
      await rename(`${targetsFile}.tmp`, targetsFile);
    },
    async query(promql) {
      try {
        return await apiGet<QueryResult>(url, queryPath(promql));
      } catch (e) {
        throw new TroupeError("E_SCENARIO", `prometheus query ${promql}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    async waitForTargets(timeoutMs) {
      const end = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        const want = new Set(current.map((t) => t.url)).size;
        try {
          // Every active target is one of ours: this server scrapes nothing else.
          const { activeTargets } = await apiGet<{ activeTargets: ActiveTarget[] }>(url, "/api/v1/targets?state=active");
          const down = activeTargets.filter((t) => t.health !== "up");
          if (activeTargets.length >= want && down.length === 0) return;
          last = down.map((t) => `${t.scrapeUrl}: ${t.health}${t.lastError ? ` (${t.lastError})` : ""}`).join("; ") || `${activeTargets.length}/${want} targets known`;
        } catch (e) {
          last = e instanceof Error ? e.message : String(e);
        }
        if (Date.now() > end) throw new TroupeError("E_SCENARIO", `prometheus: targets not up within ${timeoutMs / 1000}s: ${last}`);
        await sleep(POLL_MS);
      }
    },
    stop,
  };
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** A port nobody listens on now, on loopback (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
