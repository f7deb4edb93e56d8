// What one host's script passed, so that a REBOOT does not make it wait
// again. A script that calls REBOOT runs again from its first line once the
// host is back; the barriers and `sync` rounds it passed before the reboot
// were released for good (the other hosts went on), so calling them again
// would wait for a round nobody else joins. After a reboot, the k-th call of
// a barrier NAME (or `sync MSG`) is answered at once, as it was, while the
// script passed NAME at least k times in its earlier runs; past that, calls
// wait as usual. Pure state: the relay's commands consult it.

/** A rendezvous a host passed: `barrier NAME` or `sync MSG`. */
export type RendezvousKey = `barrier ${string}` | `sync ${string}`;

export class PassedWaits {
  /** Rounds of each rendezvous the current script passed, over all its runs. */
  private readonly passed = new Map<RendezvousKey, number>();
  /** Rounds still to answer at once in this run (after a reboot). */
  private replays = new Map<RendezvousKey, number>();

  /** A script starts (its first run): what earlier scripts passed is not its own. */
  begin(): void {
    this.passed.clear();
    this.replays.clear();
  }

  /** The host rebooted and its script runs again: what it passed is answered at once. */
  rebooted(): void {
    this.replays = new Map(this.passed);
  }

  /** Whether this call of `key` is one the script passed before its reboot (then it is counted as answered). */
  replay(key: RendezvousKey): boolean {
    const left = this.replays.get(key) ?? 0;
    if (left <= 0) return false;
    if (left === 1) this.replays.delete(key);
    else this.replays.set(key, left - 1);
    return true;
  }

  /** The script passed a round of `key` (it waited, and was released). */
  pass(key: RendezvousKey): void {
    this.passed.set(key, (this.passed.get(key) ?? 0) + 1);
  }
}
