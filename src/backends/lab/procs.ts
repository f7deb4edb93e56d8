// Processes by identity: a pid plus its start time, so that a record written
// before a crash never makes us signal an unrelated process that got the same
// pid later.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

export interface ProcId {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat, field 22). */
  readonly start: number;
}

interface StatFields {
  readonly state: string;
  readonly ppid: number;
  readonly start: number;
}

function parseStat(text: string): StatFields | undefined {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state), so field N is f[N - 3].
  const start = Number(f[19]);
  const ppid = Number(f[1]);
  if (!Number.isFinite(start) || !Number.isFinite(ppid)) return undefined;
  return { state: f[0] ?? "?", ppid, start };
}

function statSync(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The identity of a running process, or undefined. */
export function procId(pid: number): ProcId | undefined {
  const s = statSync(pid);
  return s ? { pid, start: s.start } : undefined;
}

/** This process. */
export function selfId(): ProcId {
  const id = procId(process.pid);
  if (!id) throw new Error("cannot read /proc/self/stat");
  return id;
}

/** Still running (a zombie is not), and still the same process. */
export function isRunning(id: ProcId | undefined): boolean {
  if (!id || !(id.pid > 1)) return false;
  const s = statSync(id.pid);
  return s !== undefined && s.start === id.start && s.state !== "Z" && s.state !== "X";
}

/** Children of `pid` (all its threads), with their identities. */
export async function childrenOf(pid: number): Promise<ProcId[]> {
  const out: ProcId[] = [];
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    for (const word of text.split(/\s+/)) {
      const child = Number(word);
      if (!Number.isInteger(child) || child <= 0) continue;
      const id = procId(child);
      if (id) out.push(id);
    }
  } catch {
    /* gone, or no /proc/.../children: nothing to add */
  }
  return out;
}

/** SIGKILL `id` if it is still that process. */
export function killId(id: ProcId | undefined, sig: NodeJS.Signals = "SIGKILL"): void {
  if (!isRunning(id)) return;
  try {
    process.kill(id!.pid, sig);
  } catch {
    /* gone meanwhile */
  }
}

/** Wait until none of `ids` runs; false if some still do after `ms`. */
export async function waitGone(ids: readonly ProcId[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let delay = 5;
  for (;;) {
    if (!ids.some(isRunning)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}
