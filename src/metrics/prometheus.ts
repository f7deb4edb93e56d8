// A Prometheus server run by troupe on the orchestrator: its own process
// (never the system service), its config and data in a directory of the
// caller's (a run's results folder), listening on loopback on a free port.
// Targets live in a file Prometheus re-reads (file_sd), so setTargets() needs
// no restart. stop() sends SIGTERM and waits, so the data written so far
// stays in dir. It runs under the same watchdog as on a host
// (remote-script.ts): it ends when troupe's process does, however that ends.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { freePort } from "../util/free-port.js";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../util/errors.js";
import { isReady, query, waitForTargets } from "./client.js";
import { prometheusYaml, TARGETS_FILE, targetsJson } from "./config.js";
import { findBinary, tail, track } from "./process.js";
import { configFile, parsePid, runScript } from "./run-script.js";
import { POLL_MS, READY_TIMEOUT_MS, STOP_TIMEOUT_MS, type PrometheusServer, type StartPrometheusOptions } from "./server.js";

export type { PrometheusServer, StartPrometheusOptions } from "./server.js";

/** Free ports tried when none is given: another process may take the one chosen before Prometheus binds it. */
const PORT_ATTEMPTS = 5;

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  const binary = findBinary(opts.binary ?? "prometheus");
  if (opts.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted before Prometheus started");
  const dir = opts.dir;
  // The script runs Prometheus from inside dir, with absolute paths (which it reports, and troupe checks).
  const home = resolve(dir);
  mkdirSync(join(dir, "data"), { recursive: true });
  const targetsFile = join(dir, TARGETS_FILE);
  let current = [...opts.targets];
  await writeFile(targetsFile, targetsJson(current));
  await writeFile(join(dir, "prometheus.yml"), prometheusYaml(TARGETS_FILE, opts.scrapeInterval ?? "5s"));
  const logFile = join(dir, "prometheus.log");
  const failed = (why: string): TroupeError => {
    const t = tail(logFile);
    return new TroupeError("E_BACKEND", `prometheus (${binary}) ${why}; see ${logFile}${t ? `:\n${t}` : ""}`);
  };

  for (let attempt = 1; ; attempt++) {
    const listen = opts.listen ?? `127.0.0.1:${await freePort()}`;
    const url = `http://${listen}`;
    const server = launch(binary, home, logFile, listen);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        opts.signal?.removeEventListener("abort", onAbort);
        await server.halt();
      })());
    const onAbort = (): void => void stop();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    // Ready, or exited, or timed out.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!ready) {
      if (server.exited) break;
      if (opts.signal?.aborted) {
        await stop();
        throw new TroupeError("E_INTERRUPTED", "interrupted while Prometheus was starting");
      }
      ready = server.pid !== undefined && (await isReady(url, configFile(home)));
      if (ready) break;
      if (Date.now() > deadline) {
        await stop();
        throw failed(`was not ready at ${url}/-/ready within ${READY_TIMEOUT_MS / 1000}s`);
      }
      await sleep(POLL_MS);
    }
    if (!ready) {
      opts.signal?.removeEventListener("abort", onAbort);
      if (server.spawnError) throw failed(`could not start: ${server.spawnError.message}`);
      const e = server.exited;
      if (!opts.listen && attempt < PORT_ATTEMPTS && /address already in use/.test(tail(logFile, 5))) continue;
      throw failed(`exited while starting (${e?.signal ?? `status ${e?.code}`})`);
    }

    return {
      url,
      dir,
      pid: server.pid ?? 0,
      async setTargets(targets) {
        current = [...targets];
        // Written aside and renamed: Prometheus never reads half a file.
        await writeFile(`${targetsFile}.tmp`, targetsJson(targets));
        await rename(`${targetsFile}.tmp`, targetsFile);
      },
      query: (promql) => query(url, promql),
      waitForTargets: (timeoutMs) => waitForTargets(url, () => current, timeoutMs),
      stop,
    };
  }
}

interface Launched {
  readonly child: ChildProcess;
  /** Prometheus' own pid, once the script has printed it. */
  pid: number | undefined;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  spawnError: Error | undefined;
  /** Close its input (the watchdog sends SIGTERM), wait, SIGKILL after a timeout. */
  halt(): Promise<void>;
}

/**
 * Prometheus under the same small sh script as on a host (remote-script.ts):
 * its input is a pipe from this process, and when that pipe closes (stop(),
 * or troupe's process ending in any way, even SIGKILL) a watchdog sends
 * Prometheus SIGTERM, so it writes its data out and exits.
 */
function launch(binary: string, dir: string, logFile: string, listen: string): Launched {
  const log = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", runScript(dir, binary, listen)], { cwd: dir, stdio: ["pipe", "pipe", log] });
  } finally {
    closeSync(log);
  }
  track(child);
  child.stdin?.on("error", () => undefined);
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    if (l.pid !== undefined) return;
    out += chunk.toString("utf8");
    l.pid = parsePid(out);
  });
  const l: Launched = {
    child,
    pid: undefined,
    exited: undefined,
    spawnError: undefined,
    async halt() {
      if (l.exited) return;
      child.stdin?.end();
      const timer = setTimeout(() => {
        if (l.pid !== undefined) killQuietly(l.pid);
        child.kill("SIGKILL");
      }, STOP_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
    },
  };
  const done = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      l.exited = { code, signal };
      resolve();
    });
    child.once("error", (e) => {
      l.spawnError = e;
      l.exited ??= { code: null, signal: null };
      resolve();
    });
  });
  return l;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}
