// The job session of the sync service: what the scheduler opens once every
// host of a (multi-host) job is allocated. It starts one relay per host
// (installing troupe-ctl on the way), reserves the job's named ports, hands
// each host's scripts the environment that reaches the service, turns host
// failures into poison, and tears it all down at the end.

import { randomBytes } from "node:crypto";
import type { HostAssignment, JobSession, JobSessionFactory } from "../exec/job-session.js";
import type { Job } from "../model/job.js";
import { DEFAULT_DEADLOCK_TIMEOUT } from "../plan/timeouts.js";
import type { EventStream } from "../report/events.js";
import { syncWaitOf } from "../report/sync-waits.js";
import { TroupeError } from "../util/errors.js";
import { SyncClient } from "./client.js";
import { describePoison } from "./errors.js";
import {
  choosePort,
  DEFAULT_PORT_RANGE,
  parsePortSpec,
  portEnvName,
  portRegistry as sharedRegistry,
  type PortRange,
  type PortRegistry,
  type PortRequest,
} from "./ports.js";
import { Relay, type RelayHello } from "./relay.js";
import { relayScript } from "./relay-script.js";
import { PassedWaits } from "./replay.js";
import { SyncService } from "./service.js";
import { errorText } from "../util/text.js";

export interface SyncSessionOptions {
  /** troupe's share/ dir (troupe-ctl, sync/relay.sh); found next to the package by default. */
  readonly shareDir?: string;
  /** The control dir on a host; `/tmp/troupe-sync-<session>-<host>` by default. */
  readonly controlDir?: (assignment: HostAssignment, sessionId: string) => string;
  /** Timeout of troupe-ctl waits without `--timeout`; none by default (the job's kill-timeout rules). */
  readonly defaultTimeoutMs?: number;
  /** How long a relay may take to start. Default 30s. */
  readonly startTimeoutMs?: number;
  /** How many relays start at once. Default 32. */
  readonly startConcurrency?: number;
  /** How often relays get a heartbeat, and dead lock holders and waiters (SIGKILLed troupe-ctl) are looked for. Default 1s. */
  readonly heartbeatMs?: number;
  /** A relay silent for this long means its host is lost (poison). Default 10s. */
  readonly lostAfterMs?: number;
  /** How long close() waits for a relay to exit before killing it. Default 2s. */
  readonly closeGraceMs?: number;
  /** Count the orchestrator in barriers' default N. Default false: it only observes unless it joins. */
  readonly orchestratorJoinsBarriers?: boolean;
  /** Named ports to reserve; by default the job's (`job.ports`, planned from `ports:` and TROUPE_PORTS). */
  readonly ports?: readonly PortRequest[] | ((job: Job, hosts: readonly HostAssignment[]) => readonly PortRequest[]);
  readonly portRange?: PortRange;
  readonly portRegistry?: PortRegistry;
  /** Where poison is reported (a `message` event). */
  readonly events?: EventStream;
  /**
   * Told about each session once it is open, before the job's scripts start:
   * the API's way to take part in a job from the orchestrator's side (await a
   * barrier or a key, send a message). Not awaited: the job does not wait.
   */
  readonly onSession?: (job: Job, session: SyncSession) => void;
}

export interface SyncSession extends JobSession {
  readonly id: string;
  readonly service: SyncService;
  /** The orchestrator's client: `await session.sync.barrier("ready")`. */
  readonly sync: SyncClient;
  /** Reserved ports by name. */
  readonly ports: ReadonlyMap<string, number>;
  /** A client acting as one of the job's hosts (for API users and tests). */
  client(name: string): SyncClient;
}

/** The factory the scheduler takes (see src/exec/job-session.ts). */
export function createSyncSessionFactory(options: SyncSessionOptions = {}): JobSessionFactory {
  return async (job, hosts, signal) => {
    const session = await openSyncSession(job, hosts, signal, options);
    options.onSession?.(job, session);
    return session;
  };
}

/** Ports asked for by the job's `TROUPE_PORTS` environment variable (its last definition). */
export function portsFromJob(job: Job): PortRequest[] {
  const entry = [...job.environment].reverse().find((e) => e.key === "TROUPE_PORTS");
  return entry ? parsePortSpec(entry.value) : [];
}

export async function openSyncSession(
  job: Job,
  hosts: readonly HostAssignment[],
  signal: AbortSignal,
  options: SyncSessionOptions = {},
): Promise<SyncSession> {
  const id = randomBytes(4).toString("hex");
  // Only this job's scripts get it (TROUPE_CTL_TOKEN); its relays refuse lines without it.
  const token = randomBytes(16).toString("hex");
  const events = options.events;
  const service = new SyncService({
    hosts: hosts.map((a) => ({ name: a.name, role: a.role, address: a.host.address })),
    ...(options.orchestratorJoinsBarriers !== undefined ? { orchestratorJoinsBarriers: options.orchestratorJoinsBarriers } : {}),
    onPoison: (p) => events?.message("warn", `${job.name}: ${describePoison(p)}`),
    deadlockTimeoutMs: job.deadlockTimeout ?? DEFAULT_DEADLOCK_TIMEOUT,
  });

  const requests = typeof options.ports === "function" ? options.ports(job, hosts) : (options.ports ?? job.ports ?? portsFromJob(job));
  const targetsOf = (r: PortRequest): HostAssignment[] => {
    if (r.on === undefined) return [...hosts];
    const list = hosts.filter((a) => a.name === r.on || a.role === r.on);
    if (list.length === 0) throw new TroupeError("E_USAGE", `${job.name}: port ${r.name}: no host or role "${r.on}" in this job`);
    return list;
  };
  const probe = new Set<string>();
  for (const r of requests) for (const a of targetsOf(r)) probe.add(a.name);

  const script = relayScript(options.shareDir);
  const dirOf = (a: HostAssignment): string =>
    options.controlDir?.(a, id) ?? `/tmp/troupe-sync-${id}-${a.name.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
  const relays = new Map<string, Relay>();
  const hellos = new Map<string, RelayHello>();
  let closed = false;
  const taken: { address: string; port: number }[] = [];
  const registry = options.portRegistry ?? sharedRegistry;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    signal.removeEventListener("abort", onAbort);
    service.close();
    // Let the answers to the waits just failed reach the relays before they stop.
    await new Promise((r) => setImmediate(r));
    await Promise.all([...relays.values()].map((r) => r.close(options.closeGraceMs)));
    for (const t of taken) registry.release(t.address, t.port);
    taken.length = 0;
  };
  const onAbort = (): void => {
    service.poison("orchestrator", "the run was interrupted");
    void close();
  };
  if (signal.aborted) throw new TroupeError("E_INTERRUPTED", `${job.name}: interrupted before the sync session started`);
  signal.addEventListener("abort", onAbort, { once: true });

  // What each host's script passed, kept across its relays (a REBOOT stops one and starts another).
  const passed = new Map<string, PassedWaits>();
  const passedOf = (a: HostAssignment): PassedWaits => {
    let p = passed.get(a.name);
    if (!p) passed.set(a.name, (p = new PassedWaits()));
    return p;
  };
  const newRelay = (a: HostAssignment, probePorts: boolean): Relay => {
    const relay = new Relay({
      name: a.name,
      transport: a.host.transport,
      service,
      dir: dirOf(a),
      script,
      token,
      probePorts,
      passed: passedOf(a),
      ...(options.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: options.defaultTimeoutMs } : {}),
      ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.lostAfterMs !== undefined ? { lostAfterMs: options.lostAfterMs } : {}),
      onLost: (reason) => service.poison(a.name, reason),
      onAnswered: (argv, startMs, code) => {
        const what = syncWaitOf(argv);
        if (what) events?.emit({ type: "sync-wait", job: job.name, host: a.host.name, as: a.name, what, startMs, ok: code === 0 });
      },
    });
    relays.set(a.name, relay);
    return relay;
  };

  /** Around a REBOOT of `a`: its relay stops (no poison: the others wait for it) and starts again once it is back. */
  const reboot = async (a: HostAssignment, rebootHost: () => Promise<void>): Promise<void> => {
    await relays.get(a.name)?.close(options.closeGraceMs);
    try {
      await rebootHost();
    } catch (e) {
      service.poison(a.name, `did not come back from its reboot: ${errorText(e)}`);
      throw e;
    }
    if (closed) return;
    try {
      await newRelay(a, false).start();
    } catch (e) {
      service.poison(a.name, `rebooted, but its sync session did not resume: ${errorText(e)}`);
      throw e;
    }
    passedOf(a).rebooted();
    events?.message("info", `${job.name}: ${a.name} (${a.host.name}) rebooted; its sync session resumed`);
  };

  try {
    await inPool(hosts, options.startConcurrency ?? 32, async (a) => {
      if (closed) return;
      const relay = newRelay(a, probe.has(a.name));
      hellos.set(a.name, await relay.start());
    });
    if (closed) throw new TroupeError("E_INTERRUPTED", `${job.name}: interrupted while the sync session started`);

    const ports = new Map<string, number>();
    for (const r of requests) {
      if (ports.has(r.name)) throw new TroupeError("E_USAGE", `${job.name}: port ${r.name} is asked for twice`);
      const targets = targetsOf(r).map((a) => ({ address: a.host.address, used: hellos.get(a.name)?.usedPorts ?? new Set<number>() }));
      const port = choosePort(
        `${job.name}\0${r.name}`,
        targets,
        options.portRange ?? DEFAULT_PORT_RANGE,
        registry,
        new Set(ports.values()),
      );
      ports.set(r.name, port);
      for (const t of targets) {
        registry.take(t.address, port);
        taken.push({ address: t.address, port });
      }
      service.kv.set(`port/${r.name}`, String(port));
    }
    if (ports.size > 0) {
      const list = requests.map((r) => `${r.name}=${ports.get(r.name)}${r.on !== undefined ? ` on ${r.on}` : ""}`);
      events?.message("debug", `${job.name}: reserved ports ${list.join(", ")}`);
    }
    const portEnv: Record<string, string> = {};
    for (const [name, port] of ports) portEnv[portEnvName(name)] = String(port);

    return {
      id,
      service,
      sync: new SyncClient(service),
      ports,
      client: (name) => new SyncClient(service, name),
      env(assignment) {
        if (!hellos.has(assignment.name)) return { ...portEnv };
        const dir = dirOf(assignment);
        // PATH is a directory to put in front of the host's own PATH, as the
        // engine's prelude does with it; TROUPE_CTL is the client's full path;
        // TROUPE_CTL_TOKEN is what the job's relays ask of every caller.
        return { ...portEnv, TROUPE_CTL_DIR: dir, TROUPE_CTL: `${dir}/bin/troupe-ctl`, TROUPE_CTL_TOKEN: token, PATH: `${dir}/bin` };
      },
      scriptStarting(assignment) {
        passedOf(assignment).begin();
      },
      reboot,
      hostFailed(assignment, reason) {
        service.poison(assignment.name, reason);
      },
      poisoned: () => service.poisoned,
      hostRunning: (assignment, running) => service.hostRunning(assignment.name, running),
      kv: () => service.kv.entries(),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Run `fn` on every item, at most `limit` at once; the first failure wins (the rest still settle). */
async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failures.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
}
