// Named, reusable barriers.
//
// Semantics: a barrier counts arrivals (calls), not hosts. It expects N
// arrivals per round, N being `--count` or, by default, the number of hosts in
// the job. The Nth arrival releases the round: every waiter of that round
// returns and the barrier starts a new, empty round under the same name. A
// caller that arrives after a release joins the next round. So a loop
// `for i in 1 2 3; do troupe-ctl barrier ready; done` on every host passes
// three separate rounds: nobody can lap the others, because each caller
// stays blocked until its round is full.
//
// All arrivals of one round must agree on N (a mismatch is a usage error).
// A caller that gives up (timeout, killed) is withdrawn from its round.
// The orchestrator is not a host: by default its barrier call only observes
// (waits for the round in progress to be released, without counting); with
// `join` it arrives like a host, and then N must account for it.

import { SyncError } from "./errors.js";
import type { Roster } from "./roster.js";
import type { WaitOptions, Waits } from "./waits.js";

interface Round {
  /** How many rounds were released so far; the current round is number `released`. */
  released: number;
  /** Arrivals of the current round, by participant name (a name may repeat). */
  arrived: string[];
  /** N of the current round, set by its first arrival. */
  count: number | undefined;
}

export interface BarrierOptions extends WaitOptions {
  /** Arrivals that release a round; the job's host count by default. */
  readonly count?: number;
  /** Arrive (count) rather than only observe. Hosts always arrive; the orchestrator only with this. */
  readonly join?: boolean;
}

export interface BarrierResult {
  /** The round that was released, from 0. */
  readonly round: number;
  /** Who arrived in it, in order. */
  readonly arrived: readonly string[];
}

export class Barriers {
  private readonly rounds = new Map<string, Round>();
  private readonly lastArrived = new Map<string, string[]>();

  constructor(
    private readonly waits: Waits,
    private readonly roster: Roster,
    /** N when no `--count` is given. */
    private readonly defaultCount: number,
  ) {}

  async barrier(caller: string, name: string, options: BarrierOptions = {}): Promise<BarrierResult> {
    const label = `barrier ${name}`;
    const count = options.count ?? this.defaultCount;
    if (!Number.isInteger(count) || count < 1) throw new SyncError("usage", `${label}: --count must be a whole number >= 1, not ${count}`);
    this.waits.assertOpen(label);
    const b = this.round(name);
    const topic = `barrier:${name}`;
    const arrives = this.roster.isHost(caller) || options.join === true;
    const myRound = b.released;
    if (!arrives) {
      return this.waits.wait(
        {
          topic,
          label,
          what: `at barrier "${name}"`,
          check: () => (b.released > myRound ? this.result(name, myRound) : undefined),
          describe: () => this.missing(b),
        },
        options,
      );
    }
    if (b.count !== undefined && b.count !== count) {
      throw new SyncError("usage", `${label}: --count ${count} differs from --count ${b.count} of the others in this round`);
    }
    b.count = count;
    b.arrived.push(caller);
    if (b.arrived.length >= count) {
      this.lastArrived.set(name, b.arrived);
      b.released += 1;
      b.arrived = [];
      b.count = undefined;
      this.waits.notify(topic);
      return { round: myRound, arrived: this.lastArrived.get(name) ?? [] };
    }
    return this.waits.wait(
      {
        topic,
        label,
        what: `at barrier "${name}"`,
        check: () => (b.released > myRound ? this.result(name, myRound) : undefined),
        describe: () => this.missing(b),
        withdraw: () => {
          if (b.released !== myRound) return;
          const i = b.arrived.lastIndexOf(caller);
          if (i >= 0) b.arrived.splice(i, 1);
          if (b.arrived.length === 0) b.count = undefined;
        },
      },
      options,
    );
  }

  private round(name: string): Round {
    let b = this.rounds.get(name);
    if (!b) this.rounds.set(name, (b = { released: 0, arrived: [], count: undefined }));
    return b;
  }

  private result(name: string, round: number): BarrierResult {
    return { round, arrived: this.lastArrived.get(name) ?? [] };
  }

  private missing(b: Round): string {
    const n = b.count ?? this.defaultCount;
    const here = new Set(b.arrived);
    const absent = this.roster.names().filter((h) => !here.has(h));
    const who = b.arrived.length ? `: ${b.arrived.join(", ")}` : "";
    const wanting = absent.length ? `; not arrived: ${absent.join(", ")}` : "";
    return `${b.arrived.length} of ${n} arrived${who}${wanting}`;
  }
}
