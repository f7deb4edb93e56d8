// Who is in a job: the hosts with their roles and addresses, plus the
// orchestrator as a pseudo-host. Answers the discovery verbs
// (`hosts [ROLE]`, `self`, `role`, `addr HOST-or-ROLE`). Knows which hosts
// run a script now, as the engine tells it, for the deadlock watch.

import { SyncError } from "./errors.js";

/** The orchestrator's name when it takes part through the TypeScript API. */
export const ORCHESTRATOR = "orchestrator";

export interface Participant {
  /** `server`, `client-1`: unique in the job. */
  readonly name: string;
  /** "" for a single-host job. */
  readonly role: string;
  /** How other hosts reach it. */
  readonly address: string;
}

export class Roster {
  private readonly list: Participant[] = [];
  private readonly byName = new Map<string, Participant>();
  /** Hosts the engine said run no script now; every other host counts as running. */
  private readonly idle = new Set<string>();

  constructor(hosts: readonly Participant[]) {
    for (const h of hosts) {
      if (this.byName.has(h.name)) throw new SyncError("usage", `two hosts of the job are named "${h.name}"`);
      this.join(h);
    }
  }

  get hosts(): readonly Participant[] {
    return this.list;
  }

  /** Add a participant, once (a sync server's callers name themselves as they come: server.ts). */
  join(h: Participant): void {
    if (h.name === ORCHESTRATOR) throw new SyncError("usage", `a host may not be named "${ORCHESTRATOR}"`);
    if (this.byName.has(h.name)) return;
    this.byName.set(h.name, h);
    this.list.push(h);
  }

  /** The host, or the orchestrator's pseudo-entry. */
  get(name: string): Participant | undefined {
    if (name === ORCHESTRATOR) return { name: ORCHESTRATOR, role: ORCHESTRATOR, address: "" };
    return this.byName.get(name);
  }

  isHost(name: string): boolean {
    return this.byName.has(name);
  }

  /** A script started (true) or ended (false) on the host. Returns whether this changed anything. */
  setRunning(name: string, running: boolean): boolean {
    if (!this.byName.has(name)) throw new SyncError("not-found", `no host "${name}" in this job (hosts: ${this.names().join(", ")})`);
    if (running) return this.idle.delete(name);
    if (this.idle.has(name)) return false;
    this.idle.add(name);
    return true;
  }

  /** Whether a script runs on the host; true until the engine says otherwise. */
  isRunning(name: string): boolean {
    return !this.idle.has(name);
  }

  roles(): string[] {
    return [...new Set(this.hosts.map((h) => h.role))];
  }

  /** Names of the job's hosts (of `role`), in assignment order. */
  names(role?: string): string[] {
    if (role === undefined) return this.hosts.map((h) => h.name);
    const list = this.hosts.filter((h) => h.role === role).map((h) => h.name);
    if (list.length === 0) throw new SyncError("not-found", `no role "${role}" in this job (roles: ${this.roles().join(", ") || "none"})`);
    return list;
  }

  /** Every host but `self` (of `role`): whom `wait --all` and `sync` wait for. */
  others(self: string, role?: string): string[] {
    return this.names(role).filter((n) => n !== self);
  }

  /** Addresses of a host, or of every host of a role, one per host. */
  addresses(hostOrRole: string): string[] {
    const host = this.byName.get(hostOrRole);
    if (host) return [host.address];
    const ofRole = this.hosts.filter((h) => h.role === hostOrRole);
    if (ofRole.length > 0) return ofRole.map((h) => h.address);
    throw new SyncError(
      "not-found",
      `no host or role "${hostOrRole}" in this job (hosts: ${this.names().join(", ")}; roles: ${this.roles().join(", ")})`,
    );
  }
}
