// The host layer: every front door (run, play, exec, the API) gets its
// machines here. The pool owns the backend drivers (one per backend, made
// before any host comes up so that a backend troupe cannot run fails at
// once), bounds how many hosts are being allocated at once, pushes the
// project, discards, says all of it on the event stream, and on close
// discards whatever is still held, whatever went wrong before.

import type { AllocateOptions, BackendContext, BackendDriver, Host } from "../backends/backend.js";
import type { Backend, System } from "../model/project.js";
import type { EventStream } from "../report/events.js";
import type { Bundle } from "../transfer/bundle.js";
import { shQuote } from "../exec/shell-quote.js";
import { TroupeError } from "../util/errors.js";
import { Limiter } from "../util/limit.js";
import { errorText } from "../util/text.js";

/** Hosts being allocated at once, by default. */
export const DEFAULT_ALLOCATE_CONCURRENCY = 16;

export interface HostPoolOptions {
  readonly events: EventStream;
  /** What every driver is made with. */
  readonly context: BackendContext;
  /**
   * Makes the driver of a backend: the registry's `driverFor` (backends/
   * registry.ts), which callers may wrap (reuse, logins). The pool does not
   * load the registry itself, so that `troupe exec` never loads a driver.
   */
  readonly factory: (backend: Backend, context: BackendContext) => BackendDriver;
  /** Hosts being allocated at once (default 16). */
  readonly allocateConcurrency?: number;
}

export interface AllocateRequest {
  readonly backend: Backend;
  readonly system: System;
  /** 1-based among the hosts of this backend and system. */
  readonly index: number;
  /** The name the caller would like the host to have; also shown while it is being allocated. */
  readonly name?: string;
  /** The run is stopping: give up waiting for this host (AllocateOptions.signal). */
  readonly signal?: AbortSignal;
}

/** Why a host goes: shown in the results (`interrupted`, `broken: ...`, `abend`). */
export type DiscardReason = string | undefined;

interface Held {
  readonly host: Host;
  /** How events name it: the name the caller asked for (a scenario's `node-3`), else the host's own. */
  readonly label: string;
  readonly driver: BackendDriver | undefined;
  /** For hosts the pool did not allocate (`adopt`): how to let go of them. */
  readonly release?: () => Promise<void>;
  /** The project pushed to it, sent again should a reboot lose it. */
  pushed?: Bundle;
}

export class HostPool {
  private readonly drivers = new Map<string, BackendDriver>();
  private readonly checks = new Map<BackendDriver, Promise<void>>();
  private readonly held = new Map<Host, Held>();
  private readonly limiter: Limiter;
  private readonly ownLimiters = new Map<BackendDriver, Limiter>();
  private readonly factory: (backend: Backend, context: BackendContext) => BackendDriver;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: HostPoolOptions) {
    this.limiter = new Limiter(Math.max(1, o.allocateConcurrency ?? DEFAULT_ALLOCATE_CONCURRENCY));
    this.factory = o.factory;
  }

  /** The driver of `backend`, made on first use; throws E_UNSUPPORTED for a type troupe cannot run. */
  driver(backend: Backend): BackendDriver {
    let d = this.drivers.get(backend.name);
    if (!d) {
      d = this.factory(backend, this.o.context);
      this.drivers.set(backend.name, d);
    }
    return d;
  }

  /** Make every driver now: a backend troupe cannot run fails before any host comes up. */
  prepare(backends: Iterable<Backend>): void {
    for (const b of backends) this.driver(b);
  }

  /**
   * Make every driver and let each check that it can work (its engine is
   * running, its images exist): a backend that cannot fails with what to do
   * before any host comes up. Each driver is checked once per pool, with
   * the systems of its backend among `systems` when they are given.
   */
  async check(backends: Iterable<Backend>, systems?: Iterable<System>): Promise<void> {
    const list = [...backends];
    const used = systems ? [...systems] : undefined;
    const drivers = new Map(list.map((b) => [this.driver(b), b] as const));
    await Promise.all(
      [...drivers].map(([d, b]) => {
        let checked = this.checks.get(d);
        if (!checked) {
          const mine = used?.filter((s) => s.backend === b.name);
          checked = (mine ? d.check?.([...new Set(mine)]) : d.check?.()) ?? Promise.resolve();
          this.checks.set(d, checked);
        }
        return checked;
      }),
    );
  }

  /** How many workers `system` gets, when its backend knows better than `system.workers`. */
  workersFor(backend: Backend, system: System): number {
    return this.driver(backend).workersFor?.(system) ?? system.workers;
  }

  /** Bring up one host (at most `allocateConcurrency` at once); throws when it cannot be had. */
  async allocate(req: AllocateRequest): Promise<Host> {
    const driver = this.driver(req.backend);
    return this.limiterOf(driver).run(async () => {
      if (this.o.context.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted before allocating");
      if (this.closing) throw new TroupeError("E_INTERRUPTED", "the host pool is closed");
      const { events } = this.o;
      events.emit({
        type: "host-step",
        step: "allocating",
        backend: req.backend.name,
        system: req.system.name,
        ...(req.name ? { host: req.name } : {}),
      });
      if (req.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted before allocating");
      const options: AllocateOptions = { ...(req.name ? { name: req.name } : {}), ...(req.signal ? { signal: req.signal } : {}) };
      const host = await driver.allocate(req.system, req.index, options);
      const label = req.name ?? host.name;
      this.held.set(host, { host, label, driver });
      events.emit({
        type: "host-allocated",
        host: label,
        backend: host.backend,
        system: host.system,
        address: host.address,
        ...(host.reused ? { reused: true } : {}),
      });
      return host;
    });
  }

  /** The pool's bound, or a driver's own (`allocateConcurrency`). */
  private limiterOf(driver: BackendDriver): Limiter {
    if (driver.allocateConcurrency === undefined) return this.limiter;
    let l = this.ownLimiters.get(driver);
    if (!l) this.ownLimiters.set(driver, (l = new Limiter(Math.max(1, driver.allocateConcurrency))));
    return l;
  }

  /**
   * Take charge of a host that already exists (`troupe exec` on machines
   * troupe did not make): the pool closes its connections when it is
   * discarded or the pool closes, and never destroys the machine.
   */
  adopt(host: Host, release: () => Promise<void> = () => host.transport.close()): Host {
    this.held.set(host, { host, label: host.name, driver: undefined, release });
    return host;
  }

  /**
   * Put the project bundle on a host (a host kept with its project by an
   * earlier run gets nothing). With `requireEmpty` (a Spread project), the
   * project goes only into a missing or empty directory, as Spread's
   * SendTar: what is there is never merged with.
   */
  async push(host: Host, bundle: Bundle, options: { readonly requireEmpty?: boolean } = {}): Promise<void> {
    const where = { backend: host.backend, system: host.system, host: this.labelOf(host), address: host.address };
    if (host.reused?.project) {
      this.o.events.emit({ type: "host-step", step: "reusing", ...where });
      return;
    }
    this.o.events.emit({ type: "host-step", step: "sending", ...where });
    if (options.requireEmpty) {
      const empty = await host.transport.exec({ script: emptyOrMissing(host.projectPath) });
      if (empty.exitCode !== 0) throw new TroupeError("E_BACKEND", `remote directory ${host.projectPath} on ${where.host} is not empty`);
    }
    await this.send(host, bundle);
  }

  private async send(host: Host, bundle: Bundle): Promise<void> {
    const held = this.held.get(host);
    if (held?.driver?.pushProject) await held.driver.pushProject(host, bundle);
    else await (await import("../transfer/bundle.js")).pushBundle(bundle, host.transport, host.projectPath);
    if (held) held.pushed = bundle;
  }

  /**
   * Reboots `host`, where its backend can. A project pushed into a folder
   * the reboot empties (troupe's default path is under /tmp) is sent again,
   * so the script that asked for the reboot finds it where it was.
   */
  rebooter(host: Host): ((host: Host) => Promise<void>) | undefined {
    const held = this.held.get(host);
    const reboot = held?.driver?.reboot?.bind(held.driver);
    if (!held || !reboot) return undefined;
    return async (h) => {
      await reboot(h);
      if (!held.pushed) return;
      const there = await h.transport.exec({ script: `test -d ${shQuote(h.projectPath)}` });
      if (there.exitCode === 0) return;
      this.o.events.message("info", `${this.labelOf(h)} lost ${h.projectPath} in its reboot; sending the project again`);
      await this.send(h, held.pushed);
    };
  }

  /** How events name the host. */
  labelOf(host: Host): string {
    return this.held.get(host)?.label ?? host.name;
  }

  /** The backend type a host runs on, for messages. */
  typeOf(host: Host): string {
    return this.held.get(host)?.driver?.type ?? "existing";
  }

  /** -reuse: the host is kept for later runs rather than destroyed. */
  keeps(host: Host): boolean {
    return this.held.get(host)?.driver?.keeps?.(host) ?? false;
  }

  /** Does any held host outlive the run? */
  get keepsAny(): boolean {
    return [...this.held.keys()].some((h) => this.keeps(h));
  }

  /** Hosts held now, in the order they came. */
  hosts(): Host[] {
    return [...this.held.keys()];
  }

  /** Let a host go: destroyed, or kept (-reuse), or only disconnected (adopted). Never throws; says what failed. */
  async discard(host: Host, reason?: DiscardReason): Promise<void> {
    const h = this.held.get(host);
    if (!h) return;
    this.held.delete(host);
    const { events } = this.o;
    const kept = h.driver?.keeps?.(host) ?? false;
    if (h.driver) {
      const where = { backend: host.backend, system: host.system, host: h.label, address: host.address };
      events.emit({ type: "host-step", step: kept ? "keeping" : "discarding", ...where });
    }
    let failed: string | undefined;
    try {
      if (h.driver) await h.driver.discard(host);
      else await h.release?.();
    } catch (err) {
      failed = errorText(err);
      events.message("error", `Error ${kept ? "releasing" : "discarding"} ${host.name}: ${failed}`);
    }
    if (!h.driver) return;
    const why = failed !== undefined ? `discard failed: ${failed}` : reason;
    events.emit({ type: "host-discarded", host: h.label, ...(why ? { reason: why } : {}), ...(kept ? { kept: true } : {}) });
  }

  /** Discard every host still held (reason: `reason`), then close the drivers. Safe to call twice. */
  close(reason?: DiscardReason): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.held.keys()].map((h) => this.discard(h, reason)));
      await Promise.all(
        [...this.drivers.values()].map(async (d) => {
          try {
            await d.close?.();
          } catch (err) {
            this.o.events.message("error", `Error closing the ${d.type} backend: ${errorText(err)}`);
          }
        }),
      );
    })();
    return this.closing;
  }
}

/** A POSIX sh test: `dir` does not exist, or holds nothing. */
function emptyOrMissing(dir: string): string {
  const q = shQuote(dir);
  return `test ! -e ${q} || { test -d ${q} && test -z "$(ls -A ${q})"; }`;
}
