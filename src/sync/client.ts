// The TypeScript mirror of troupe-ctl, for the orchestrator (or any
// participant, in tests): the same verbs, as promises.
//
//   const s = session.sync;                       // the orchestrator's client
//   await s.barrier("ready");                     // observe: until the hosts pass it
//   const url = await s.kv.wait("db/url", { timeoutMs: 30_000 });
//   await s.lock("disk", async () => { ... });

import type { BarrierResult } from "./barriers.js";
import type { Sent } from "./messages.js";
import { ORCHESTRATOR } from "./roster.js";
import type { SyncService } from "./service.js";
import type { WaitOptions } from "./waits.js";

export interface ClientBarrierOptions extends WaitOptions {
  /** Arrivals that release a round (the job's host count by default). */
  readonly count?: number;
  /** For the orchestrator: count as an arrival instead of only observing. */
  readonly join?: boolean;
}

export interface ClientWaitOptions extends WaitOptions {
  /** Wait for every other host, not just one: `true`, or a role to wait for all hosts of. */
  readonly all?: boolean | string;
}

export class SyncClient {
  readonly kv: {
    set(key: string, value: string): void;
    get(key: string): string | undefined;
    /** Until the key is set. */
    wait(key: string, options?: WaitOptions): Promise<string>;
    del(key: string): boolean;
  };

  constructor(
    private readonly service: SyncService,
    /** Who is calling: `orchestrator` by default, or a host's name. */
    readonly name: string = ORCHESTRATOR,
  ) {
    this.kv = {
      set: (key, value) => service.kv.set(key, value),
      get: (key) => service.kv.get(key),
      wait: (key, options) => service.kv.wait(key, options),
      del: (key) => service.kv.del(key),
    };
  }

  barrier(name: string, options: ClientBarrierOptions = {}): Promise<BarrierResult> {
    return this.service.barrier(this.name, name, options);
  }

  send(msg: string, data: Readonly<Record<string, string>> = {}): void {
    this.service.send(this.name, msg, Object.entries(data));
  }

  /** `wait MSG`: the first other sender's data; with `all`, every other host's. */
  wait(msg: string, options?: WaitOptions & { readonly all?: false }): Promise<Sent>;
  wait(msg: string, options: WaitOptions & { readonly all: true | string }): Promise<Sent[]>;
  wait(msg: string, options: ClientWaitOptions = {}): Promise<Sent | Sent[]> {
    const { all, ...rest } = options;
    if (all === undefined || all === false) return this.service.waitAny(this.name, msg, rest);
    return this.service.waitAll(this.name, msg, all === true ? undefined : all, rest);
  }

  sync(msg: string, options?: WaitOptions): Promise<Sent[]> {
    return this.service.sync(this.name, msg, options);
  }

  /** Run `fn` holding lock `name`; released when `fn` settles. */
  async lock<T>(name: string, fn: () => T | Promise<T>, options?: WaitOptions): Promise<T> {
    const grant = await this.service.lock(this.name, name, options);
    try {
      return await fn();
    } finally {
      grant.release();
    }
  }

  /** `baton wait NAME`: until this host holds the baton (a host's client only: the orchestrator takes no turns). */
  batonWait(name: string, options?: WaitOptions): Promise<void> {
    return this.service.batons.wait(this.name, name, options);
  }

  /** `baton pass NAME [TO]`: hand the baton this host holds to `to`, or to the next host in role order; who has it now. */
  batonPass(name: string, to?: string): string {
    return this.service.batons.pass(this.name, name, to);
  }

  /** Poison the job on purpose. */
  fail(reason: string): void {
    this.service.fail(this.name, reason);
  }

  hosts(role?: string): string[] {
    return this.service.roster.names(role);
  }

  addr(hostOrRole: string): string[] {
    return this.service.roster.addresses(hostOrRole);
  }
}
