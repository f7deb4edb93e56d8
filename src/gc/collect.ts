// `troupe gc`: ask every backend type's collector what troupe left behind
// that no live run owns, say it, and remove it (unless --dry-run).

import type { CollectOptions, Collector, Leftover } from "./collector.js";
import { errorText } from "../util/text.js";

export interface GcOptions extends CollectOptions {
  readonly dryRun?: boolean;
  /** Only these backend types. */
  readonly types?: readonly string[];
  /** Each line as it happens. */
  readonly say: (line: string) => void;
}

export interface GcResult {
  readonly found: readonly Leftover[];
  readonly removed: readonly Leftover[];
  /** Leftovers that could not be removed, with why. */
  readonly failed: readonly { readonly leftover: Leftover; readonly error: string }[];
  /** Types whose engine could not be asked, with why. */
  readonly unavailable: readonly { readonly type: string; readonly why: string }[];
}

function describe(l: Leftover): string {
  return `${l.type} ${l.kind} ${l.name}${l.run ? ` (run ${l.run})` : ""}: ${l.reason}`;
}

export async function collectGarbage(collectors: readonly Collector[], o: GcOptions): Promise<GcResult> {
  const found: Leftover[] = [];
  const removed: Leftover[] = [];
  const failed: { leftover: Leftover; error: string }[] = [];
  const unavailable: { type: string; why: string }[] = [];
  const options: CollectOptions = { ...(o.signal ? { signal: o.signal } : {}), ...(o.all ? { all: true } : {}) };
  // One type after another: each engine is asked and cleaned in turn, in the order given.
  for (const c of collectors) {
    let items: readonly Leftover[];
    try {
      const answer = await c.find(options);
      if ("unavailable" in answer) {
        unavailable.push({ type: c.type, why: answer.unavailable });
        continue;
      }
      items = answer;
    } catch (err) {
      unavailable.push({ type: c.type, why: errorText(err) });
      continue;
    }
    for (const item of items) {
      found.push(item);
      if (o.dryRun) {
        o.say(`would remove ${describe(item)}`);
        continue;
      }
      try {
        await c.remove(item, options);
        removed.push(item);
        o.say(`removed ${describe(item)}`);
      } catch (err) {
        failed.push({ leftover: item, error: errorText(err) });
        o.say(`could not remove ${describe(item)}: ${errorText(err)}`);
      }
    }
    if (!o.dryRun) await c.tidy?.(options);
  }
  return { found, removed, failed, unavailable };
}
