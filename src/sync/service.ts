// The sync service of one job: barriers, a key-value store, LAVA-style
// messages, locks, discovery and poison, for the job's hosts and the
// orchestrator. Pure state and async waits: no I/O. The relay (relay.ts)
// and the TypeScript client (client.ts) are two doors to the same object.

import { Barriers, type BarrierOptions, type BarrierResult } from "./barriers.js";
import { Batons } from "./batons.js";
import { type Poison } from "./errors.js";
import { KeyValues } from "./kv.js";
import { Locks, type LockGrant } from "./locks.js";
import { Messages, type MessageData, type Sent } from "./messages.js";
import { ORCHESTRATOR, Roster, type Participant } from "./roster.js";
import { Waits, type WaitOptions } from "./waits.js";

export interface SyncServiceOptions {
  readonly hosts: readonly Participant[];
  /** Count the orchestrator in barriers' default N (then it must `join` them). Default false. */
  readonly orchestratorJoinsBarriers?: boolean;
  /** Barriers' N without `--count`, instead of the host count (a sync server's `--hosts`). */
  readonly barrierCount?: number;
  /** Called once, when the job is first poisoned. */
  readonly onPoison?: (poison: Poison) => void;
}

export class SyncService {
  readonly roster: Roster;
  readonly kv: KeyValues;
  readonly messages: Messages;
  readonly locks: Locks;
  readonly batons: Batons;
  private readonly barriers: Barriers;
  private readonly waits = new Waits();
  private readonly onPoison: ((poison: Poison) => void) | undefined;

  constructor(options: SyncServiceOptions) {
    this.roster = new Roster(options.hosts);
    const n = options.barrierCount ?? this.roster.hosts.length + (options.orchestratorJoinsBarriers ? 1 : 0);
    this.barriers = new Barriers(this.waits, this.roster, n);
    this.kv = new KeyValues(this.waits);
    this.messages = new Messages(this.waits, this.roster);
    this.locks = new Locks(this.waits);
    this.batons = new Batons(this.waits, this.roster);
    this.onPoison = options.onPoison;
  }

  barrier(caller: string, name: string, options?: BarrierOptions): Promise<BarrierResult> {
    return this.barriers.barrier(caller, name, options);
  }

  send(caller: string, msg: string, data?: MessageData): void {
    this.messages.send(caller, msg, data);
  }

  waitAny(caller: string, msg: string, options?: WaitOptions): Promise<Sent> {
    return this.messages.waitAny(caller, msg, options);
  }

  waitAll(caller: string, msg: string, role?: string, options?: WaitOptions): Promise<Sent[]> {
    return this.messages.waitAll(caller, msg, role, options);
  }

  sync(caller: string, msg: string, options?: WaitOptions): Promise<Sent[]> {
    return this.messages.sync(caller, msg, options);
  }

  lock(caller: string, name: string, options?: WaitOptions): Promise<LockGrant> {
    return this.locks.acquire(caller, name, options);
  }

  /**
   * Poison the job: every pending and future wait fails at once, naming
   * `host` and `reason`. Only the first poison counts. Locks `host` held are
   * released. Returns false when the job was already poisoned or closed.
   */
  poison(host: string, reason: string, called = false): boolean {
    const poison: Poison = called ? { host, reason, called } : { host, reason };
    const first = this.waits.poisonAll(poison);
    this.locks.releaseAllOf(host);
    if (first) this.onPoison?.(poison);
    return first;
  }

  /** `troupe-ctl fail REASON` / `client.fail()`. */
  fail(caller: string, reason: string): boolean {
    return this.poison(caller, reason || "failed on purpose", true);
  }

  get poisoned(): Poison | undefined {
    return this.waits.poisoned;
  }

  get closed(): boolean {
    return this.waits.isClosed;
  }

  /** Throws (poisoned / closed) when no wait may start; for callers with waits of their own. */
  assertOpen(label: string): void {
    this.waits.assertOpen(label);
  }

  /** Pending waits, for diagnostics and tests. */
  get pendingWaits(): number {
    return this.waits.size;
  }

  /** End of the job: every pending wait fails as "closed". */
  close(): void {
    this.waits.close();
  }
}

export { ORCHESTRATOR };
