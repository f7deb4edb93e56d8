// What a process made and has not removed yet (containers, VMs, lab hosts),
// swept synchronously should the process exit with any of it still there.
// Orderly ends remove machines themselves and take them out of the sweep;
// the sweep is for the exits nobody planned: an uncaught error, process.exit
// from a signal handler. An "exit" listener cannot wait for anything, so a
// sweep uses synchronous calls only.

export class ExitSweep<T> {
  private readonly live = new Map<string, T>();
  private hooked = false;

  /** `sweep` gets what is left at exit, never an empty map. */
  constructor(private readonly sweep: (left: ReadonlyMap<string, T>) => void) {}

  set(key: string, item: T): void {
    this.live.set(key, item);
    if (this.hooked) return;
    this.hooked = true;
    process.once("exit", () => {
      if (this.live.size > 0) this.sweep(this.live);
    });
  }

  delete(key: string): void {
    this.live.delete(key);
  }
}

/** The keys of `map` grouped by value (e.g. containers by the engine that holds them). */
export function keysByValue<K, V>(map: ReadonlyMap<K, V>): Map<V, K[]> {
  const groups = new Map<V, K[]>();
  for (const [key, value] of map) {
    const keys = groups.get(value);
    if (keys) keys.push(key);
    else groups.set(value, [key]);
  }
  return groups;
}
