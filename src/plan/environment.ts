// An ordered environment with Spread's exact editing rules (spread/project.go,
// type Environment): keys keep the order in which they were last set, a
// variant key `VAR/a,b` is a separate key from the bare `VAR`, and selecting
// a variant renames the matching variant keys in place and drops the others.

import { compareBytes } from "../util/code-unit-order.js";

/** Split `KEY/a,b` into `KEY` and `["a", "b"]`; a key without a slash has no variants. */
export function splitVariants(key: string): { readonly name: string; readonly variants: readonly string[] } {
  const i = key.lastIndexOf("/");
  if (i < 0) return { name: key, variants: [] };
  return { name: key.slice(0, i), variants: key.slice(i + 1).split(",") };
}

/**
 * The variant names an environment's keys define, sorted; each prefixed with
 * `prefix` (Spread uses "" at the project and "+" below it). With no variant
 * keys and an empty prefix, the single empty variant "" (dropped later when
 * real variants exist).
 */
export function envVariants(keys: readonly string[], prefix: string): string[] {
  const seen = new Set<string>();
  for (const key of keys) for (const v of splitVariants(key).variants) seen.add(v);
  const out = [...seen].map((v) => prefix + v);
  if (out.length === 0 && prefix === "") out.push("");
  return out.sort(compareBytes);
}

export class OrderedEnv {
  private keyList: string[] = [];
  private readonly vals = new Map<string, string>();

  static of(pairs: readonly (readonly [string, string])[]): OrderedEnv {
    const env = new OrderedEnv();
    for (const [k, v] of pairs) env.set(k, v);
    return env;
  }

  keys(): string[] {
    return [...this.keyList];
  }

  has(key: string): boolean {
    return this.vals.has(key);
  }

  get(key: string): string {
    return this.vals.get(key) ?? "";
  }

  entries(): { key: string; value: string }[] {
    return this.keyList.map((key) => ({ key, value: this.get(key) }));
  }

  copy(): OrderedEnv {
    const env = new OrderedEnv();
    env.keyList = [...this.keyList];
    for (const [k, v] of this.vals) env.vals.set(k, v);
    return env;
  }

  /** Remove a key (and its place in the order). */
  unset(key: string): void {
    if (!this.vals.delete(key)) return;
    this.keyList = this.keyList.filter((k) => k !== key);
  }

  /** Set a key, moving it to the end of the order (Spread's Environment.Set). */
  set(key: string, value: string): void {
    this.unset(key);
    this.keyList.push(key);
    this.vals.set(key, value);
  }

  /**
   * Spread's Environment.Replace: `newKey` takes `oldKey`'s place in the
   * order, dropping any existing `newKey`; when `oldKey` is absent, `newKey`
   * keeps its place or is appended.
   */
  replace(oldKey: string, newKey: string, value: string): void {
    if (this.vals.has(oldKey) && newKey !== oldKey) {
      this.unset(newKey);
      this.vals.delete(oldKey);
      const i = this.keyList.indexOf(oldKey);
      if (i >= 0) this.keyList[i] = newKey;
    } else if (!this.vals.has(newKey)) {
      this.keyList.push(newKey);
    }
    this.vals.set(newKey, value);
  }

  /**
   * The environment of one variant (Spread's Environment.Variant): every key
   * naming `variant` becomes its bare name, in its own place, overriding the
   * bare default; every other variant key is dropped. Spread walks its keys in
   * Go's random map order, which only matters when two keys select the same
   * name for one variant; here they are walked in order, so the later (more
   * specific level's) key wins.
   */
  variant(variant: string): OrderedEnv {
    const env = this.copy();
    for (const key of this.keyList) {
      if (!env.vals.has(key)) continue;
      const { name, variants } = splitVariants(key);
      if (variants.length === 0) continue;
      if (variants.includes(variant)) env.replace(key, name, env.get(key));
      else env.unset(key);
    }
    return env;
  }
}
