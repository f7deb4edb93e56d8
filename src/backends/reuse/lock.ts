// One troupe process at a time per reuse file, as Spread's flock on
// .spread-reuse.yaml: a second `troupe run --reuse` on the same project waits
// for the first to end. Node has no flock, so the lock is a file created
// exclusively (`FILE.lock`) holding its owner's pid; a lock whose process is
// gone (killed, crashed) is stale and taken over.

import { hostname } from "node:os";
import { mkdir, open, readFile, rm, rmdir, stat } from "node:fs/promises";
import { TroupeError } from "../../util/errors.js";
import { isRunning, procId, type ProcId } from "../lab/procs.js";

interface LockOwner {
  readonly pid: number;
  /** The process's start time where /proc tells it: a recycled pid is not the owner. */
  readonly start?: number;
  readonly host: string;
}

export interface LockOptions {
  /** Called once when the lock is held by another process and waiting begins. */
  readonly onWait?: (holder: number) => void;
  readonly signal?: AbortSignal;
  /** How often to look again (default 200 ms). */
  readonly pollMs?: number;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

/** A half-written lock (its writer died between create and write) is stale after this. */
const UNREADABLE_GRACE_MS = 5000;

function me(): LockOwner {
  const id = procId(process.pid);
  return { pid: process.pid, ...(id ? { start: id.start } : {}), host: hostname() };
}

/** Whether the process that wrote `owner` still runs (true when it cannot be known). */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.start !== undefined && procId(owner.pid) !== undefined) {
    return isRunning({ pid: owner.pid, start: owner.start } satisfies ProcId);
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readOwner(path: string): Promise<LockOwner | "absent" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : "unreadable";
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === "number" && typeof o.host === "string") return o as LockOwner;
  } catch {
    /* below */
  }
  return "unreadable";
}

/** Take `lockPath`, waiting while another live process holds it. */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  const self = me();
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw new TroupeError("E_INTERRUPTED", `interrupted while waiting for ${lockPath}`);
    try {
      const fh = await open(lockPath, "wx", 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(self)}\n`);
      } finally {
        await fh.close();
      }
      return { path: lockPath, release: () => releaseLock(lockPath, self) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new TroupeError("E_USAGE", `cannot create ${lockPath}: ${(e as Error).message}`);
      }
    }
    const owner = await readOwner(lockPath);
    if (owner === "absent") continue;
    // Held by this very process (two sessions in one program) counts as alive: wait.
    const stale = owner === "unreadable" ? await olderThan(lockPath, UNREADABLE_GRACE_MS) : !ownerAlive(owner);
    if (stale) {
      await takeOver(lockPath, owner);
      continue;
    }
    if (!told && owner !== "unreadable") {
      told = true;
      options.onWait?.(owner.pid);
    }
    await sleep(options.pollMs ?? 200, options.signal);
  }
}

/** Whether the process that holds `lockPath` is gone (its identity: pid, start time, machine), still there, or there is no lock. */
export async function lockHolder(lockPath: string): Promise<"absent" | "alive" | "gone"> {
  const owner = await readOwner(lockPath);
  if (owner === "absent") return "absent";
  if (owner === "unreadable") return (await olderThan(lockPath, UNREADABLE_GRACE_MS)) ? "gone" : "alive";
  return ownerAlive(owner) ? "alive" : "gone";
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}

/**
 * Remove a stale lock. Two processes may find the same stale lock: a
 * directory made exclusively lets one of them do it, and it checks again
 * that the lock is still the stale one before removing it.
 */
async function takeOver(lockPath: string, stale: LockOwner | "unreadable"): Promise<void> {
  const guard = `${lockPath}.takeover`;
  try {
    await mkdir(guard);
  } catch {
    // Someone else is taking it over; a guard left by a crash goes after a while.
    if (await olderThan(guard, UNREADABLE_GRACE_MS)) await rmdir(guard).catch(() => undefined);
    return;
  }
  try {
    const now = await readOwner(lockPath);
    const same =
      stale === "unreadable"
        ? now === "unreadable"
        : now !== "absent" && now !== "unreadable" && now.pid === stale.pid && now.start === stale.start && now.host === stale.host;
    if (same) await rm(lockPath, { force: true });
  } finally {
    await rmdir(guard).catch(() => undefined);
  }
}

async function releaseLock(lockPath: string, self: LockOwner): Promise<void> {
  const owner = await readOwner(lockPath);
  if (owner !== "absent" && owner !== "unreadable" && owner.pid === self.pid && owner.host === self.host) {
    await rm(lockPath, { force: true });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
