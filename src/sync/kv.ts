// The job's key-value store: strings to strings, shared by all hosts and the
// orchestrator. `wait` blocks until the key is set (returns at once if it is).
// A value is at most VALUE_LIMIT bytes, so that `kv get` can always give back
// what `kv set` took.

import { checkValue } from "./values.js";
import type { WaitOptions, Waits } from "./waits.js";

export class KeyValues {
  private readonly map = new Map<string, string>();

  constructor(private readonly waits: Waits) {}

  set(key: string, value: string): void {
    checkValue(`kv set ${key}`, value);
    this.map.set(key, value);
    this.waits.notify(`kv:${key}`);
  }

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  /** True when the key existed. */
  del(key: string): boolean {
    return this.map.delete(key);
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  /** Every key and its value, in the order the keys were set. */
  entries(): [string, string][] {
    return [...this.map.entries()];
  }

  wait(key: string, options: WaitOptions = {}): Promise<string> {
    return this.waits.wait(
      {
        topic: `kv:${key}`,
        label: `kv get ${key}`,
        what: `for kv key "${key}"`,
        check: () => this.map.get(key),
        describe: () => "not set",
      },
      options,
    );
  }
}
