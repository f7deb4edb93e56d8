// The sync service of one job: barriers, a key-value store, LAVA-style
// messages, locks, discovery and poison, for the job's hosts and the
// orchestrator. Pure state and async waits: no I/O. The relay (relay.ts)
// and the TypeScript client (client.ts) are two doors to the same object.
// With `deadlockTimeoutMs`, a job whose hosts all wait and none can go on
// (deadlock.ts) is poisoned with the job's own failure, E_DEADLOCK.

import { Barriers, type BarrierOptions, type BarrierResult } from "./barriers.js";
import { Batons } from "./batons.js";
import { describeDeadlock, type HostState } from "./deadlock.js";
import { DeadlockWatch } from "./deadlock-watch.js";
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
  /**
   * Poison the job (code E_DEADLOCK) when every host waits and none can go on
   * (deadlock.ts) and nothing changed for this long. Absent, 0, negative or
   * Infinity: never.
   */
  readonly deadlockTimeoutMs?: number;
}

export class SyncService {
  readonly roster: Roster;
  readonly kv: KeyValues;
  readonly messages: Messages;
  readonly locks: Locks;
  readonly batons: Batons;
  private readonly barriers: Barriers;
  private readonly waits: Waits;
  private readonly watch: DeadlockWatch | undefined;
  private readonly onPoison: ((poison: Poison) => void) | undefined;

  constructor(options: SyncServiceOptions) {
    this.roster = new Roster(options.hosts);
    const limit = options.deadlockTimeoutMs;
    this.watch =
      limit !== undefined && limit > 0 && Number.isFinite(limit)
        ? new DeadlockWatch({
            timeoutMs: limit,
            state: () => this.hostStates(),
            onDeadlock: (d) => this.poison(ORCHESTRATOR, describeDeadlock(d), { code: "E_DEADLOCK" }),
          })
        : undefined;
    this.waits = new Waits(() => this.watch?.changed());
    const n = options.barrierCount ?? this.roster.hosts.length + (options.orchestratorJoinsBarriers ? 1 : 0);
    this.barriers = new Barriers(this.waits, this.roster, n);
    this.kv = new KeyValues(this.waits);
    this.messages = new Messages(this.waits, this.roster);
    this.locks = new Locks(this.waits);
    this.batons = new Batons(this.waits, this.roster);
    this.onPoison = options.onPoison;
  }

  barrier(caller: string, name: string, options?: BarrierOptions): Promise<BarrierResult> {
    return this.barriers.barrier(caller, name, { ...options, caller });
  }

  send(caller: string, msg: string, data?: MessageData): void {
    this.messages.send(caller, msg, data);
  }

  waitAny(caller: string, msg: string, options?: WaitOptions): Promise<Sent> {
    return this.messages.waitAny(caller, msg, { ...options, caller });
  }

  waitAll(caller: string, msg: string, role?: string, options?: WaitOptions): Promise<Sent[]> {
    return this.messages.waitAll(caller, msg, role, { ...options, caller });
  }

  sync(caller: string, msg: string, options?: WaitOptions): Promise<Sent[]> {
    return this.messages.sync(caller, msg, { ...options, caller });
  }

  lock(caller: string, name: string, options?: WaitOptions): Promise<LockGrant> {
    return this.locks.acquire(caller, name, { ...options, caller });
  }

  /**
   * Poison the job: every pending and future wait fails at once, naming
   * `host` and `reason`. Only the first poison counts. Locks `host` held are
   * released. Returns false when the job was already poisoned or closed.
   */
  poison(host: string, reason: string, how: { readonly called?: boolean; readonly code?: Poison["code"] } = {}): boolean {
    const poison: Poison = { host, reason, ...(how.called ? { called: true } : {}), ...(how.code ? { code: how.code } : {}) };
    const first = this.waits.poisonAll(poison);
    this.locks.releaseAllOf(host);
    if (first) {
      this.watch?.stop();
      this.onPoison?.(poison);
    }
    return first;
  }

  /** `troupe-ctl fail REASON` / `client.fail()`. */
  fail(caller: string, reason: string): boolean {
    return this.poison(caller, reason || "failed on purpose", { called: true });
  }

  /**
   * The engine's word on a host: a script of the job started (true) or ended
   * (false) there. A host never told about counts as running. A host that
   * runs no script can release nobody: the deadlock watch counts on it.
   */
  hostRunning(host: string, running: boolean): void {
    if (this.roster.setRunning(host, running)) this.watch?.changed();
  }

  /** Each host's state, for the deadlock watch: whether it runs a script, what it waits for. */
  hostStates(): HostState[] {
    const waits = this.waits.byCaller();
    return this.roster.hosts.map((h) => ({ name: h.name, running: this.roster.isRunning(h.name), waits: waits.get(h.name) ?? [] }));
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
    this.watch?.stop();
    this.waits.close();
  }
}

export { ORCHESTRATOR };
