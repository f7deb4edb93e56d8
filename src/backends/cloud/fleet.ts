// The machines of one cloud backend in one run, whatever the provider.
// A backend driver asks for one host at a time (the host pool calls
// allocate for each); the fleet gathers the requests made together into one
// provider call per system (EC2: one RunInstances for N machines), bounds
// the provider calls in flight, retries throttled and passing failures with
// backoff, guards `max-hosts`, applies the partial-allocation policy, waits
// for each machine to be reachable (the driver's `reach`), and on close
// (the end of the run, an interrupt, an error) destroys every machine it
// made, those still being made included.
//
// The fleet also keeps the run's open hosts (by host name, each with its
// machine and its connection), so that a driver's discard, -reuse's keep and
// release, and the end of the run are written once for every provider.
//
// What a provider does is in `CloudProvider`: create N machines (tagged
// with troupe's owner labels at creation, so that `troupe gc` finds what a
// killed troupe left), destroy some, and sort its errors.

import { randomUUID } from "node:crypto";
import type { System } from "../../model/project.js";
import type { EventStream } from "../../report/events.js";
import type { BackendDriver, Host, RecordedHost } from "../backend.js";
import { offlineTransport } from "../reuse/offline.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import { Limiter } from "../../util/limit.js";
import { errorText } from "../../util/text.js";
import { withBackoff } from "./backoff.js";
import { cloudError, retryable, type CloudFailure } from "./errors.js";
import { checkKeptImage, machineKind } from "./experiment.js";
import type { CloudSettings } from "./settings.js";

export interface CloudMachine {
  /** The provider's id (EC2's instance id, GCE's instance name). */
  readonly id: string;
  /** Where SSH reaches it, once it runs. */
  readonly address: string;
}

export interface CreateRequest {
  readonly system: System;
  /** One name per machine wanted, in order: machine i is named names[i]. */
  readonly names: readonly string[];
  /** All of them or none (the `fail` policy): providers that can say so in the call do. */
  readonly all: boolean;
  /** When the machines are to be gone. */
  readonly haltAt: Date;
  /** The same for every attempt of one batch: a provider's idempotency token (EC2's ClientToken, GCE's requestId). */
  readonly token: string;
  readonly signal: AbortSignal;
}

export interface CloudProvider<M extends CloudMachine> {
  /** `ec2`, `google`: the start of every message. */
  readonly type: string;
  /**
   * Make up to `names.length` machines and wait until they run with an
   * address. Calls `created` with every machine as soon as the provider has
   * it (before waiting), so that nothing made is ever untracked. Resolves to
   * the machines that run, in the order of their names (fewer when the
   * provider gave fewer, or some stopped); throws what the provider said.
   */
  create(request: CreateRequest, created: (machines: readonly Pick<M, "id">[]) => void): Promise<readonly M[]>;
  /** Destroy these machines; gone ones are no error. */
  destroy(ids: readonly string[]): Promise<void>;
  /** Sort an error the provider's API threw. */
  classify(err: unknown): CloudFailure;
}

export interface FleetOptions<M extends CloudMachine> {
  readonly provider: CloudProvider<M>;
  readonly settings: CloudSettings;
  readonly events: EventStream;
  /** The run's interrupt. */
  readonly signal?: AbortSignal;
  /** Requests made together are sent in one call of at most this many (default 100). */
  readonly maxBatch?: number;
  /** How long the first request of a batch waits for others (default 50 ms: nothing, next to a machine's boot). */
  readonly batchWindowMs?: number;
  /** For tests: when the machines of a batch are known, before they run. */
  readonly onCreated?: (ids: readonly string[]) => void;
}

/** What reaching a machine gives: a connection to close when the host goes. */
export interface Reached {
  close(): Promise<void>;
}

interface OpenHost<M, T> {
  readonly machine: M;
  /** Absent for a host taken back only to be discarded. */
  readonly reached?: T;
}

interface Pending<M> {
  readonly name: string;
  readonly resolve: (m: M) => void;
  readonly reject: (e: unknown) => void;
}

const BATCH_WINDOW_MS = 50;

/** Hosts a cloud driver lets the pool allocate at once: the fleet batches and bounds the API calls. */
export const CLOUD_ALLOCATE_CONCURRENCY = 500;

/** Whether an error is one every later allocation would get too: stop asking. */
function fatal(f: CloudFailure): boolean {
  return f.kind === "quota" || f.kind === "permission" || f.kind === "credentials" || f.kind === "not-found";
}

export class CloudFleet<M extends CloudMachine, T extends Reached = Reached> {
  private readonly provider: CloudProvider<M>;
  private readonly limiter: Limiter;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;
  /** Machine ids the provider made and that are not destroyed yet. */
  private readonly alive = new Set<string>();
  /** Requests not sent yet, per system. */
  private readonly queued = new Map<string, { system: System; reqs: Pending<M>[] }>();
  /** Requests sent or queued, not settled. */
  private inFlight = 0;
  /** Machines handed to callers and not released: with `inFlight`, what counts against max-hosts. */
  private readonly handedOut = new Set<string>();
  private readonly launches = new Set<Promise<void>>();
  private readonly destroying = new Set<Promise<void>>();
  /** The run's hosts, by host name. */
  private readonly open = new Map<string, OpenHost<M, T>>();
  /** Hosts kept for later runs (-reuse): let go of at the end, not destroyed. */
  private readonly kept = new Set<string>();
  private flushScheduled = false;
  private failure: TroupeError | undefined;
  private closed = false;

  constructor(private readonly o: FleetOptions<M>) {
    this.provider = o.provider;
    this.limiter = new Limiter(Math.max(1, o.settings.apiConcurrency));
    this.signal = o.signal ? AbortSignal.any([o.signal, this.stop.signal]) : this.stop.signal;
  }

  /** Machines made and not destroyed. */
  get size(): number {
    return this.alive.size;
  }

  /**
   * One machine of `system` named `name`, running and reached by `reach`
   * (SSH readiness and login). A machine that cannot be reached is
   * destroyed; under the `fail` policy, so is every machine not handed out
   * yet, and every later allocation fails with the same error.
   */
  async allocate(system: System, name: string, reach: (m: M, signal: AbortSignal) => Promise<T>): Promise<{ machine: M; reached: T }> {
    const machine = await this.machine(system, name);
    try {
      const reached = await reach(machine, this.signal);
      this.open.set(name, { machine, reached });
      return { machine, reached };
    } catch (err) {
      await this.destroyMachine(machine.id);
      if (this.o.settings.partial === "fail" && !this.signal.aborted) {
        this.fail(new TroupeError("E_BACKEND", `${this.provider.type}: ${name} (${machine.id}) could not be reached: ${errorText(err)}`));
      }
      throw err;
    }
  }

  /**
   * A machine an earlier run kept (-reuse), taken back as host `name`:
   * this run's from now on, destroyed at its end unless kept again.
   * `reached` is absent when it is taken back only to be discarded.
   */
  adopt(name: string, machine: M, reached?: T): void {
    this.alive.add(machine.id);
    this.handedOut.add(machine.id);
    this.open.set(name, { machine, ...(reached ? { reached } : {}) });
  }

  /** Whether `name` is a host of this run. */
  has(name: string): boolean {
    return this.open.has(name);
  }

  /** The host goes: its connection closes and its machine is destroyed, unless kept (then only let go of). Safe twice. */
  async discard(name: string): Promise<void> {
    if (this.kept.has(name)) return this.letGo(name);
    const o = this.open.get(name);
    if (!o) return;
    this.open.delete(name);
    await o.reached?.close().catch(() => undefined);
    await this.destroyMachine(o.machine.id);
  }

  /** -reuse: the host's machine outlives the run; it is only let go of from now on. */
  keep(name: string): boolean {
    if (!this.open.has(name)) return false;
    this.kept.add(name);
    return true;
  }

  keeps(name: string): boolean {
    return this.kept.has(name);
  }

  /** Close the host's connection and forget its machine, which stays up (a later run takes it back). */
  async letGo(name: string): Promise<void> {
    const o = this.open.get(name);
    if (!o) return;
    this.open.delete(name);
    this.handedOut.delete(o.machine.id);
    this.alive.delete(o.machine.id);
    await o.reached?.close().catch(() => undefined);
  }

  /** Destroy one machine (safe twice). */
  private async destroyMachine(id: string): Promise<void> {
    this.handedOut.delete(id);
    if (!this.alive.has(id)) return;
    this.alive.delete(id);
    await this.destroy([id]);
  }

  /**
   * The end of the run: kept hosts are let go of, the others' connections
   * close, and every machine goes, those being made too: calls in flight
   * finish (a machine whose creation was asked for exists, whether or not
   * we wait for the answer), then everything they made goes.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    this.rejectQueued(new TroupeError("E_INTERRUPTED", `${this.provider.type}: the run is ending`));
    await Promise.all([...this.kept].map((name) => this.letGo(name)));
    const hosts = [...this.open.values()];
    this.open.clear();
    await Promise.all(hosts.map((o) => (o.reached ? o.reached.close().catch(() => undefined) : Promise.resolve())));
    while (this.launches.size > 0) await Promise.allSettled([...this.launches]);
    const ids = [...this.alive];
    this.alive.clear();
    if (ids.length > 0) await this.destroy(ids);
    while (this.destroying.size > 0) await Promise.allSettled([...this.destroying]);
  }

  private machine(system: System, name: string): Promise<M> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed || this.signal.aborted) return Promise.reject(new TroupeError("E_INTERRUPTED", "interrupted"));
    const max = this.o.settings.maxHosts;
    if (max !== undefined && this.handedOut.size + this.inFlight + 1 > max) {
      const err = new TroupeError(
        "E_BACKEND",
        `${this.provider.type}: the run needs more than max-hosts (${max}) machines at once; ` +
          `raise max-hosts in the project (or --max-hosts), or ask for fewer hosts`,
      );
      this.fail(err);
      return Promise.reject(err);
    }
    this.inFlight++;
    return new Promise<M>((resolve, reject) => {
      const settle =
        <A>(fn: (a: A) => void) =>
        (a: A) => {
          this.inFlight--;
          fn(a);
        };
      // Machines of one kind (one system, one experiment image) share a call.
      const kind = machineKind(system);
      let q = this.queued.get(kind);
      if (!q) this.queued.set(kind, (q = { system, reqs: [] }));
      q.reqs.push({ name, resolve: settle(resolve), reject: settle(reject) });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Requests the pool makes in one go arrive within this window: they share a call.
        setTimeout(() => this.flush(), this.o.batchWindowMs ?? BATCH_WINDOW_MS);
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const max = Math.max(1, this.o.maxBatch ?? 100);
    for (const [key, { system, reqs }] of this.queued) {
      this.queued.delete(key);
      for (let i = 0; i < reqs.length; i += max) {
        const chunk = reqs.slice(i, i + max);
        const p = this.limiter.run(() => this.launch(system, chunk)).finally(() => this.launches.delete(p));
        this.launches.add(p);
      }
    }
  }

  private async launch(system: System, reqs: readonly Pending<M>[]): Promise<void> {
    if (this.failure || this.closed) {
      for (const r of reqs) r.reject(this.failure ?? new TroupeError("E_INTERRUPTED", "interrupted"));
      return;
    }
    const names = reqs.map((r) => r.name);
    const type = this.provider.type;
    const made = new Set<string>();
    const track = (ms: readonly Pick<M, "id">[]): void => {
      for (const m of ms) {
        made.add(m.id);
        this.alive.add(m.id);
      }
      this.o.onCreated?.(ms.map((m) => m.id));
    };
    let running: readonly M[];
    const token = randomUUID();
    try {
      running = await withBackoff(
        () =>
          this.provider.create(
            { system, names, all: this.o.settings.partial === "fail", haltAt: this.haltAt(), token, signal: this.signal },
            track,
          ),
        {
          retry: (err) => made.size === 0 && !isTroupeError(err) && retryable(this.provider.classify(err).kind),
          signal: this.signal,
          onRetry: (err, n, ms) =>
            this.o.events.message("debug", `${type}: ${this.provider.classify(err).reason}; trying again in ${ms} ms (attempt ${n + 1})`),
        },
      );
    } catch (err) {
      const e = this.asError(err, `cannot create ${names.length} machine${names.length === 1 ? "" : "s"} of ${system.name}`);
      // What was made before it failed goes now.
      const ids = [...made].filter((id) => this.alive.delete(id));
      if (ids.length > 0) await this.destroy(ids);
      if (e.code !== "E_INTERRUPTED" && (this.o.settings.partial === "fail" || fatal(this.failureOf(err)))) this.fail(e);
      for (const r of reqs) r.reject(this.failure ?? e);
      return;
    }
    // Machines made but not running (stopped while booting): gone.
    const runningIds = new Set(running.map((m) => m.id));
    const lost = [...made].filter((id) => !runningIds.has(id) && this.alive.delete(id));
    if (lost.length > 0) await this.destroy(lost);
    if (this.closed) {
      for (const r of reqs) r.reject(new TroupeError("E_INTERRUPTED", "interrupted"));
      return;
    }
    if (running.length < reqs.length) {
      const short = new TroupeError(
        "E_BACKEND",
        `${type}: asked for ${reqs.length} machines of ${system.name}, ${running.length} came up` +
          (this.o.settings.partial === "use" ? "; going on with those (partial: use)" : "; releasing them all (partial: fail)"),
      );
      if (this.o.settings.partial === "fail") {
        const ids = running.map((m) => m.id).filter((id) => this.alive.delete(id));
        if (ids.length > 0) await this.destroy(ids);
        this.fail(short);
        for (const r of reqs) r.reject(short);
        return;
      }
      this.o.events.message("warn", short.message);
    }
    reqs.forEach((r, i) => {
      const m = running[i];
      if (m) {
        this.handedOut.add(m.id);
        r.resolve(m);
      } else r.reject(new TroupeError("E_BACKEND", `${type}: no machine came up for ${r.name}`));
    });
  }

  private haltAt(): Date {
    return new Date(Date.now() + this.o.settings.lifetimeMs);
  }

  private failureOf(err: unknown): CloudFailure {
    return isTroupeError(err) ? { kind: "other", reason: err.message } : this.provider.classify(err);
  }

  private asError(err: unknown, doing: string): TroupeError {
    if (isTroupeError(err)) return err;
    return cloudError(this.provider.type, doing, this.provider.classify(err));
  }

  /** Stop: every queued and later allocation fails with `err`; machines not handed out are destroyed by their launch. */
  private fail(err: TroupeError): void {
    this.failure ??= err;
    this.rejectQueued(this.failure);
  }

  private rejectQueued(err: unknown): void {
    for (const [key, { reqs }] of this.queued) {
      this.queued.delete(key);
      for (const r of reqs) r.reject(err);
    }
  }

  private destroy(ids: readonly string[]): Promise<void> {
    const p = withBackoff(() => this.provider.destroy(ids), {
      retry: (err) => retryable(this.provider.classify(err).kind),
      attempts: 6,
    })
      .catch((err: unknown) => {
        this.o.events.message(
          "error",
          `${this.provider.type}: could not destroy ${ids.join(", ")}: ${this.failureOf(err).reason}; \`troupe gc\` removes them once their halt time passes`,
        );
      })
      .finally(() => this.destroying.delete(p));
    this.destroying.add(p);
    return p;
  }
}

/**
 * A cloud driver's methods over its run's hosts, the same for every
 * provider: the fleet (made on first use, so perhaps not yet) holds them.
 */
export function fleetHostMethods<M extends CloudMachine, T extends Reached>(
  type: string,
  fleet: () => CloudFleet<M, T> | undefined,
): Required<Pick<BackendDriver, "discard" | "keep" | "keeps" | "release" | "close">> {
  return {
    async discard(host: Host): Promise<void> {
      await fleet()?.discard(host.name);
    },
    // -reuse: the machine outlives the run (its halt time still ends it).
    keep(host: Host): Promise<void> {
      if (fleet()?.keep(host.name)) return Promise.resolve();
      return Promise.reject(new TroupeError("E_BACKEND", `${type}: cannot keep ${host.name}: not a host of this run`));
    },
    keeps(host: Host): boolean {
      return fleet()?.keeps(host.name) ?? false;
    },
    async release(host: Host): Promise<void> {
      await fleet()?.letGo(host.name);
    },
    async close(): Promise<void> {
      await fleet()?.close();
    },
  };
}

export interface TakeBackOptions<M extends CloudMachine, T extends Reached & { readonly transport: Host["transport"] }> {
  /** The backend type, for messages. */
  readonly type: string;
  readonly fleet: CloudFleet<M, T>;
  readonly recorded: RecordedHost;
  readonly system: System;
  readonly purpose: "run" | "discard";
  /** The machine as the provider has it now; undefined when it is gone (or no longer running). */
  readonly find: () => Promise<M | undefined>;
  /** Log into it for a run (and into the experiment's container, if any). */
  readonly connect: (machine: M) => Promise<T>;
  /** The host for the machine, over `transport`. */
  readonly hostOf: (machine: M, transport: Host["transport"]) => Host;
}

/**
 * -reuse for a cloud backend: a machine an earlier run kept, taken back into
 * this run's fleet. To discard it, it needs no login; for a run, it must have
 * been made with the image the system asks for now, and is logged into.
 */
export async function takeBack<M extends CloudMachine, T extends Reached & { readonly transport: Host["transport"] }>(
  o: TakeBackOptions<M, T>,
): Promise<Host | undefined> {
  const name = o.recorded.name;
  if (o.fleet.has(name)) throw new TroupeError("E_BACKEND", `${o.type}: ${name} is already a host of this run`);
  const machine = await o.find();
  if (!machine) return undefined;
  if (o.purpose === "discard") {
    o.fleet.adopt(name, machine);
    return o.hostOf(machine, offlineTransport(name));
  }
  checkKeptImage(`${o.type}: ${name} (${machine.id})`, o.recorded.data, o.system);
  const reached = await o.connect(machine);
  o.fleet.adopt(name, machine, reached);
  return o.hostOf(machine, reached.transport);
}
