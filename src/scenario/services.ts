// Services: long-running processes started by `service:` jobs. A service
// counts as started once it is ready (its `ready:` script succeeds, or
// something listens on its endpoint's port, or at once when there is neither);
// it runs until the end of the scenario, when its process group is killed.
// One that exits by itself before then fails the scenario.

import type { EventStream } from "../report/events.js";
import type { Transport } from "../transport/transport.js";
import { runScript } from "../script/run-script.js";
import { shownTail } from "../script/tail.js";
import { TroupeError } from "../util/errors.js";
import { listeningScript } from "./script.js";
import { longTimeoutSignal } from "../util/long-timer.js";

/** What is kept of a service's output, for the report when it dies. */
const SERVICE_OUTPUT_TAIL = 8192;
/** How often readiness is checked. */
const READY_POLL_MS = 200;
/** How long stopping one service may take before troupe stops waiting for it. */
const STOP_WAIT_MS = 10_000;

export interface ServiceSpec {
  readonly host: string;
  readonly name: string;
  readonly transport: Transport;
  /** The full script (prelude included). */
  readonly script: string;
  readonly endpoint?: string;
  /** The metrics URL, when the service declares a metrics path. */
  readonly metrics?: string;
  /** A full script run until it exits 0; or a port to see listening. */
  readonly ready?: string;
  readonly port?: number;
  readonly readyTimeoutMs: number;
  /** Its output was kept on the host (log: keep/summary): fetch it once it ended; returns what reports show of it. */
  readonly collectLog?: () => Promise<string>;
  /** Each output line, as it comes. */
  readonly onLine: (stream: "stdout" | "stderr", line: string) => void;
}

interface Running {
  readonly spec: ServiceSpec;
  readonly stop: AbortController;
  stopping: boolean;
  exited?: { code: number | null; error?: string };
  /** Its process ended. */
  readonly ended: Promise<void>;
  /** And its kept log was fetched, and its end said. */
  readonly done: Promise<void>;
  output: string;
}

export class ServiceSet {
  private readonly byHost = new Map<string, Map<string, Running>>();

  constructor(
    private readonly events: EventStream,
    /** A service exited by itself (not stopped by troupe). */
    private readonly onCrash: (host: string, service: string, reason: string, output: string) => void,
  ) {}

  endpoint(host: string, service: string): string | undefined {
    const r = this.byHost.get(host)?.get(service);
    return r && !r.exited ? (r.spec.endpoint ?? "") : undefined;
  }

  running(host: string): string[] {
    return [...(this.byHost.get(host)?.values() ?? [])].filter((r) => !r.exited).map((r) => r.spec.name);
  }

  /** Services with a metrics URL, for Prometheus. */
  metricsTargets(): { job: string; url: string; labels: Record<string, string> }[] {
    const out: { job: string; url: string; labels: Record<string, string> }[] = [];
    for (const [host, services] of this.byHost) {
      for (const r of services.values())
        if (r.spec.metrics && !r.exited) out.push({ job: r.spec.name, url: r.spec.metrics, labels: { host, service: r.spec.name } });
    }
    return out;
  }

  /** Start a service and wait until it is ready; throws (E_SCENARIO) if it exits first or is not ready in time. */
  async start(spec: ServiceSpec, signal: AbortSignal): Promise<void> {
    const services = this.byHost.get(spec.host) ?? new Map<string, Running>();
    this.byHost.set(spec.host, services);
    const earlier = services.get(spec.name);
    if (earlier && !earlier.exited) throw new TroupeError("E_SCENARIO", `service ${spec.name} is already running on ${spec.host}`);

    const stop = new AbortController();
    const ended = runScript({
      transport: spec.transport,
      script: spec.script,
      signal: stop.signal,
      onLine: (line) => spec.onLine(line.stream, line.text),
      capture: { output: SERVICE_OUTPUT_TAIL },
    }).then((r) => {
      run.output = shownTail(r.output, r.truncated);
      run.exited =
        r.failure?.kind === "transport"
          ? { code: null, error: r.failure.message }
          : { code: r.failure?.kind === "interrupt" ? null : r.exitCode };
    });
    const run: Running = {
      spec,
      stop,
      stopping: false,
      output: "",
      ended,
      done: ended
        .then(async () => {
          if (spec.collectLog) run.output = await spec.collectLog();
        })
        .then(() => {
          this.events.emit({
            type: "service-stopped",
            host: spec.host,
            service: spec.name,
            expected: run.stopping,
            exitCode: run.exited?.code ?? null,
            ...(run.exited?.error ? { reason: run.exited.error } : {}),
          });
          if (!run.stopping) this.onCrash(spec.host, spec.name, exitReason(run), run.output);
        }),
    };
    services.set(spec.name, run);

    await this.waitReady(run, signal);
    this.events.emit({
      type: "service-started",
      host: spec.host,
      service: spec.name,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(spec.metrics ? { metrics: spec.metrics } : {}),
    });
  }

  private async waitReady(run: Running, signal: AbortSignal): Promise<void> {
    const { spec } = run;
    const check = spec.ready ?? (spec.port !== undefined ? listeningScript(spec.port) : undefined);
    if (check === undefined) return;
    const what = spec.ready ? "its ready: script succeeds" : `something listens on port ${spec.port}`;
    // The deadline also stops a check that hangs. A long timer: ready_timeout
    // may be longer than setTimeout takes (2^31-1 ms).
    const deadline = longTimeoutSignal(spec.readyTimeoutMs);
    const stop = new AbortController();
    const onStop = (): void => stop.abort();
    signal.addEventListener("abort", onStop, { once: true });
    deadline.signal.addEventListener("abort", onStop, { once: true });
    try {
      for (;;) {
        if (run.exited) throw new TroupeError("E_SCENARIO", `service ${spec.name} exited before it was ready (${exitReason(run)})`);
        if (signal.aborted) throw new TroupeError("E_INTERRUPTED", `service ${spec.name}: stopped while waiting until ${what}`);
        if (deadline.signal.aborted) {
          throw new TroupeError(
            "E_SCENARIO",
            `service ${spec.name} was not ready after ${Math.round(spec.readyTimeoutMs / 1000)}s (waited until ${what}; ready_timeout: sets how long)`,
          );
        }
        const r = await spec.transport.exec({ script: check, signal: stop.signal }).catch(() => ({ exitCode: null }));
        if (r.exitCode === 0 || (!spec.ready && r.exitCode === 2)) return;
        await sleep(READY_POLL_MS, stop.signal);
      }
    } finally {
      deadline.clear();
      signal.removeEventListener("abort", onStop);
    }
  }

  /** Stop every service (kill its process group) and wait for them to go. */
  async stopAll(): Promise<void> {
    const all = [...this.byHost.values()].flatMap((m) => [...m.values()]).filter((r) => !r.exited);
    for (const r of all) {
      r.stopping = true;
      r.stop.abort();
    }
    const giveUp = new AbortController();
    const timer = setTimeout(() => giveUp.abort(), STOP_WAIT_MS);
    try {
      // Those that end in time: also their kept logs are fetched (however long that takes).
      await Promise.all(
        all.map(async (r) => {
          if (await Promise.race([r.ended.then(() => true), sleep(STOP_WAIT_MS, giveUp.signal).then(() => false)])) await r.done;
        }),
      );
    } finally {
      clearTimeout(timer);
      giveUp.abort();
    }
  }
}

function exitReason(run: Running): string {
  if (run.exited?.error) return run.exited.error;
  const code = run.exited?.code;
  return code === null || code === undefined ? "killed by a signal" : `exit status ${code}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
