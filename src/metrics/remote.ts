// A Prometheus server on one of the run's hosts instead of the orchestrator,
// driven through the host's Transport like any script: its config written
// there, the server started by a session that lives as long as it does (see
// remote-script.ts for the watchdog that ties them), queried over HTTP at
// http://ADDRESS:PORT, and at stop() its data and log fetched back (a tar
// stream) into a directory of the orchestrator's, with the run's results.

import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import * as tar from "tar";
import type { ExecResult, Transport } from "../transport/transport.js";
import { TroupeError } from "../util/errors.js";
import { isReady, query, waitForTargets } from "./client.js";
import { prometheusYaml, TARGETS_FILE, targetsJson } from "./config.js";
import {
  configFile,
  findBinaryScript,
  killScript,
  listenAddress,
  parsePid,
  removeScript,
  runScript,
  tailScript,
  writeFileScript,
} from "./run-script.js";
import { POLL_MS, READY_TIMEOUT_MS, STOP_TIMEOUT_MS, type PrometheusServer, type StartPrometheusOptions } from "./server.js";
import { errorText } from "../util/text.js";

/** Ports tried in turn when no `listen` is given and the one before is taken. */
const DEFAULT_PORTS = [9090, 9091, 9092, 9093, 9094, 9095, 9096, 9097, 9098, 9099];
/** How long the session may take to end after a SIGKILL, before troupe cuts it. */
const KILL_WAIT_MS = 10_000;

export interface StartPrometheusOnOptions extends StartPrometheusOptions {
  /** How the orchestrator reaches the host (an IP address or a DNS name); the server's URL is http://ADDRESS:PORT. */
  readonly address: string;
  /** The server's directory on the host (default /var/tmp/troupe-prometheus-RANDOM); removed once stop() has fetched it. */
  readonly remoteDir?: string;
  /** The host's name in messages and in `server.host` (default: the transport's label). */
  readonly name?: string;
}

/** Run Prometheus on the host behind `transport`; its data comes back into `opts.dir` at stop(). */
export async function startPrometheusOn(transport: Transport, opts: StartPrometheusOnOptions): Promise<PrometheusServer> {
  const host = opts.name ?? transport.label;
  if (opts.signal?.aborted) throw new TroupeError("E_INTERRUPTED", `interrupted before Prometheus started on ${host}`);
  const binary = await findBinaryOn(transport, host, opts.binary ?? "prometheus");
  const remoteDir = opts.remoteDir ?? `/var/tmp/troupe-prometheus-${randomBytes(4).toString("hex")}`;
  if (!remoteDir.startsWith("/")) throw new TroupeError("E_USAGE", `prometheus: remoteDir ${remoteDir}: give an absolute path on ${host}`);
  const listens = opts.listen ? [opts.listen] : DEFAULT_PORTS.map((p) => `0.0.0.0:${p}`);
  const yaml = prometheusYaml(TARGETS_FILE, opts.scrapeInterval ?? "5s");
  let current = [...opts.targets];

  // The orchestrator keeps copies of the config next to the data it will fetch.
  await mkdir(opts.dir, { recursive: true });
  await writeFile(join(opts.dir, "prometheus.yml"), yaml);
  await writeFile(join(opts.dir, TARGETS_FILE), targetsJson(current));
  await writeOn(transport, host, remoteDir, "prometheus.yml", yaml);
  await writeOn(transport, host, remoteDir, TARGETS_FILE, targetsJson(current));

  const fetchBack = async (paths: readonly string[]): Promise<void> => {
    await pipeline(await transport.get(remoteDir, paths), tar.x({ cwd: opts.dir, preserveOwner: false }));
  };
  const failed = async (why: string): Promise<TroupeError> => {
    const tail = await textOf(transport, tailScript(remoteDir));
    // The log comes home; the directory on the host goes.
    const kept = await fetchBack(["prometheus.log"]).then(
      () => true,
      () => false,
    );
    if (kept) await textOf(transport, removeScript(remoteDir));
    const where = kept ? join(opts.dir, "prometheus.log") : `${host}:${remoteDir}/prometheus.log`;
    return new TroupeError(
      "E_BACKEND",
      `prometheus on ${host} (${binary}) ${why}; see ${where}${tail.trim() ? `:\n${tail.trimEnd()}` : ""}`,
    );
  };

  for (const [i, listen] of listens.entries()) {
    const { url } = listenAddress(listen, opts.address);
    const run = launch(transport, runScript(remoteDir, binary, listen));
    const started = await waitReady(run, url, configFile(remoteDir), opts.signal);
    if (started === "ready") {
      let stopping: Promise<void> | undefined;
      const stop = (): Promise<void> =>
        (stopping ??= (async () => {
          opts.signal?.removeEventListener("abort", onAbort);
          await run.halt(transport, remoteDir);
          try {
            await fetchBack(["prometheus.log", "data"]);
          } catch (e) {
            throw new TroupeError(
              "E_TRANSPORT",
              `prometheus on ${host} stopped, but its data could not be fetched (it is still in ${host}:${remoteDir}): ${errorText(e)}`,
            );
          }
          await textOf(transport, removeScript(remoteDir));
        })());
      const onAbort = (): void => void stop().catch(() => undefined);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      return {
        url,
        dir: opts.dir,
        pid: run.pid ?? 0,
        host,
        async setTargets(targets) {
          current = [...targets];
          const text = targetsJson(current);
          await writeFile(join(opts.dir, TARGETS_FILE), text);
          await writeOn(transport, host, remoteDir, TARGETS_FILE, text);
        },
        query: (promql) => query(url, promql),
        waitForTargets: (timeoutMs) => waitForTargets(url, () => current, timeoutMs),
        stop,
      };
    }
    if (started === "interrupted") {
      await run.halt(transport, remoteDir);
      // What it wrote comes home; the host keeps it only if it cannot.
      const fetched = await fetchBack(["prometheus.log", "data"]).then(
        () => true,
        () => false,
      );
      if (fetched) await textOf(transport, removeScript(remoteDir));
      throw new TroupeError("E_INTERRUPTED", `interrupted while Prometheus was starting on ${host}`);
    }
    if (started === "timeout") {
      await run.halt(transport, remoteDir);
      throw await failed(
        `was not ready within ${READY_TIMEOUT_MS / 1000}s at ${url}/-/ready (troupe asks from the orchestrator: is that port reachable from here?)`,
      );
    }
    // It exited: a port taken by someone else is worth another try.
    await run.halt(transport, remoteDir);
    const tail = await textOf(transport, tailScript(remoteDir, 5));
    if (/address already in use/.test(tail) && i + 1 < listens.length) continue;
    throw await failed(`exited while starting (${describeExit(run.ended)})`);
  }
  // Not reached: the last attempt returns or throws.
  throw new TroupeError("E_BACKEND", `prometheus on ${host}: no port to listen on`);
}

interface Launched {
  /** The server's pid on the host, once the script has printed it. */
  pid: number | undefined;
  /** How the session ended, once it has. */
  ended: { result?: ExecResult; error?: unknown } | undefined;
  done: Promise<void>;
  /** End the server: close its input (SIGTERM by the watchdog), wait, SIGKILL after a timeout. */
  halt(transport: Transport, remoteDir: string): Promise<void>;
}

function launch(transport: Transport, script: string): Launched {
  const input = new PassThrough();
  const session = new AbortController();
  let out = "";
  const l: Launched = {
    pid: undefined,
    ended: undefined,
    done: Promise.resolve(),
    async halt(t, remoteDir) {
      input.end();
      if (await within(l.done, STOP_TIMEOUT_MS)) return;
      await textOf(t, killScript(remoteDir));
      if (await within(l.done, KILL_WAIT_MS)) return;
      session.abort();
      await within(l.done, KILL_WAIT_MS);
    },
  };
  const onStdout = (chunk: Buffer): void => {
    if (l.pid !== undefined) return;
    out += chunk.toString("utf8");
    l.pid = parsePid(out);
  };
  l.done = transport.exec({ script, stdin: input, signal: session.signal, onStdout }).then(
    (result) => {
      l.ended = { result };
    },
    (error: unknown) => {
      l.ended = { error };
    },
  );
  return l;
}

async function waitReady(
  run: Launched,
  url: string,
  config: string,
  signal: AbortSignal | undefined,
): Promise<"ready" | "exited" | "timeout" | "interrupted"> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (run.ended) return "exited";
    if (signal?.aborted) return "interrupted";
    // The pid line comes first; without it stop() could not SIGKILL the server.
    if (run.pid !== undefined && (await isReady(url, config))) return "ready";
    if (Date.now() > deadline) return "timeout";
    await sleep(POLL_MS);
  }
}

async function findBinaryOn(transport: Transport, host: string, binary: string): Promise<string> {
  let out = "";
  const r = await transport.exec({ script: findBinaryScript(binary), onStdout: (c) => (out += c.toString("utf8")) });
  const found = out.trim().split("\n")[0];
  if (r.exitCode === 0 && found) return found;
  throw new TroupeError(
    "E_UNSUPPORTED",
    `prometheus: ${binary} not found on ${host}${binary.includes("/") ? "" : " (in its PATH)"}: install Prometheus there (Debian: apt-get install prometheus) or give the path of its binary`,
  );
}

async function writeOn(transport: Transport, host: string, dir: string, name: string, text: string): Promise<void> {
  let err = "";
  const r = await transport.exec({ script: writeFileScript(dir, name), stdin: text, onStderr: (c) => (err += c.toString("utf8")) });
  if (r.exitCode !== 0)
    throw new TroupeError(
      "E_BACKEND",
      `prometheus: cannot write ${dir}/${name} on ${host}: ${err.trim() || `status ${r.exitCode ?? r.signal}`}`,
    );
}

/** A script's standard output ("" when it fails or the host cannot be reached). */
async function textOf(transport: Transport, script: string): Promise<string> {
  let out = "";
  await transport.exec({ script, onStdout: (c) => (out += c.toString("utf8")) }).catch(() => undefined);
  return out;
}

/** Whether `p` settles within `ms`. */
async function within(p: Promise<void>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const timedOut = sleep(ms, false, { signal: timer.signal }).catch(() => false);
  try {
    return await Promise.race([p.then(() => true), timedOut]);
  } finally {
    timer.abort();
  }
}

function describeExit(ended: Launched["ended"]): string {
  if (!ended) return "still running";
  if (ended.error !== undefined) return errorText(ended.error);
  const r = ended.result;
  return r?.signal ? `killed by ${r.signal}` : `status ${r?.exitCode ?? "unknown"}`;
}
