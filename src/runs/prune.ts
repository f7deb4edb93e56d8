// `troupe runs prune`: which runs to remove (pure), and removing them. A run
// still going is never removed, whatever it is asked; `latest` then points at
// the newest run left.

import { readlink, rm, unlink } from "node:fs/promises";
import { basename } from "node:path";
import { parseDuration } from "../config/duration.js";
import { pointLatest } from "../report/latest.js";
import { TroupeError } from "../util/errors.js";
import type { RunRecord } from "./records.js";
import { latestLinkOf } from "./where.js";

export interface PruneRule {
  /** Keep this many of the newest runs. */
  readonly keep?: number;
  /** Remove runs started longer ago than this (ms). */
  readonly olderThanMs?: number;
}

export interface PrunePlan {
  readonly remove: readonly RunRecord[];
  /** Runs the rule picked but that are still going. */
  readonly running: readonly RunRecord[];
}

/** `7d`, `12h`, `1d12h`, `90m`, `2w`: Go's durations, with days (`d`) and weeks (`w`) too. */
export function parseAge(text: string): number {
  const m = /^(?:(\d+)w)?(?:(\d+)d)?(.*)$/.exec(text.trim());
  const weeks = Number(m?.[1] ?? 0);
  const days = Number(m?.[2] ?? 0);
  const rest = m?.[3] ?? "";
  const restMs = rest === "" ? 0 : parseDuration(rest);
  if (!m || restMs === undefined || restMs < 0 || (rest === "" && !m[1] && !m[2])) {
    throw new TroupeError("E_USAGE", `--older-than takes an age such as 7d, 12h, 1d12h or 90m, not "${text}"`);
  }
  return ((weeks * 7 + days) * 24 * 3600 + 0) * 1000 + restMs;
}

/** The runs `rule` removes from `runs` (oldest first, as readRuns gives them). */
export function planPrune(runs: readonly RunRecord[], rule: PruneRule, now: number): PrunePlan {
  const newestFirst = [...runs].reverse();
  const picked = newestFirst.filter((r, i) => {
    if (rule.keep !== undefined) return i >= rule.keep;
    const started = r.startTime ? Date.parse(r.startTime) : NaN;
    return rule.olderThanMs !== undefined && Number.isFinite(started) && now - started > rule.olderThanMs;
  });
  const going = (r: RunRecord): boolean => r.status === "running";
  return { remove: picked.filter((r) => !going(r)).reverse(), running: picked.filter(going).reverse() };
}

/** Remove the runs' folders; `latest` (next to `runsDir`, `.troupe/latest`) follows the newest left, or goes. */
export async function removeRuns(runsDir: string, remove: readonly RunRecord[], left: readonly RunRecord[]): Promise<void> {
  for (const r of remove) await rm(r.dir, { recursive: true, force: true });
  const link = latestLinkOf(runsDir);
  const target = await readlink(link).catch(() => undefined);
  if (target === undefined || !remove.some((r) => r.id === basename(target))) return;
  const newest = left[left.length - 1];
  if (newest) await pointLatest(newest.dir, link);
  else await unlink(link).catch(() => undefined);
}
