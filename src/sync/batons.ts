// Batons, buildomat's name for passing a turn: the baton NAME is with one
// host of the job at a time, the job's first host (in role order) until it
// is first passed. `baton wait NAME` returns once the caller holds it;
// `baton pass NAME [TO]` hands it on, to TO or to the host after the caller
// in role order (after the last, the first). Only its holder may pass it.

import { SyncError } from "./errors.js";
import type { Roster } from "./roster.js";
import type { WaitOptions, Waits } from "./waits.js";

export class Batons {
  private readonly holders = new Map<string, string>();

  constructor(
    private readonly waits: Waits,
    private readonly roster: Roster,
  ) {}

  /** Who holds NAME now. */
  holder(name: string): string {
    return this.holders.get(name) ?? this.roster.names()[0] ?? "";
  }

  /** Returns once `caller` holds NAME (at once if it does). */
  async wait(caller: string, name: string, options: WaitOptions = {}): Promise<void> {
    this.known(`baton wait ${name}`, caller);
    await this.waits.wait(
      {
        topic: `baton:${name}`,
        label: `baton wait ${name}`,
        what: `for baton "${name}"`,
        check: () => (this.holder(name) === caller ? true : undefined),
        describe: () => `held by ${this.holder(name)}`,
      },
      { ...options, caller },
    );
  }

  /** Hand NAME from `caller` to `to`, or to the next host in role order; returns who has it now. */
  pass(caller: string, name: string, to?: string): string {
    const label = `baton pass ${name}`;
    this.known(label, caller);
    const holder = this.holder(name);
    if (holder !== caller) throw new SyncError("usage", `${label}: ${caller} does not hold it (${holder} does): wait for it first`);
    const names = this.roster.names();
    const next = to ?? names[(names.indexOf(caller) + 1) % names.length]!;
    if (to !== undefined) this.known(label, to);
    this.holders.set(name, next);
    this.waits.notify(`baton:${name}`);
    return next;
  }

  /** Only the job's hosts take turns. */
  private known(label: string, host: string): void {
    if (!this.roster.isHost(host)) {
      throw new SyncError("not-found", `${label}: no host "${host}" in this job (hosts: ${this.roster.names().join(", ")})`);
    }
  }
}
