// What tests ask of local processes, read from /proc: is one alive, wait for
// one to go. A zombie or a dead task counts as gone; a process that goes
// between two reads (ENOENT, ESRCH) does too.

import { readdirSync, readFileSync } from "node:fs";

/** Whether process `pid` runs: it has a /proc entry whose state is neither zombie (Z) nor dead (X). */
export function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // The command name in parentheses may hold anything; the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/** Resolves once process `pid` is gone. Killed processes go at once; this waits on no clock of its own. */
export async function processGone(pid: number): Promise<void> {
  while (processAlive(pid)) await new Promise((r) => setImmediate(r));
}

/** Pids of the processes on this machine (lab hosts' included) whose command line is exactly `words`. */
export function processesRunning(words: readonly string[]): number[] {
  const want = words.join("\0") + "\0";
  const pids: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8") === want) pids.push(Number(p));
    } catch {
      // gone since the listing
    }
  }
  return pids;
}
