// One JSON record per lab host, `<state>/hosts/N.json`. Creating the record
// (exclusively, whole: written aside and linked into place) is what claims
// slot N, before anything else of the host exists, so that `lab gc` can
// always find what a crashed process left behind. A record says `making`
// until its host is whole (sshd answers): a host whose maker died before
// that is half-made, and `lab gc` removes it even if it was to be kept.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { TroupeError } from "../../util/errors.js";
import { hostPaths, labPaths, MAX_SLOTS, netnsName, vethName } from "./layout.js";
import type { ProcId } from "./procs.js";
import { errorText } from "../../util/text.js";

export interface LabHostRecord {
  readonly version: 1;
  readonly slot: number;
  /** Host name and hostname. */
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  readonly veth: string;
  readonly dir: string;
  /** The troupe process that made the host. */
  readonly owner: ProcId;
  /** Made by `lab up`: outlives its owner until `lab down`. */
  readonly keep: boolean;
  /** The lab's name (`lab up --name`), for kept hosts. */
  readonly lab?: string;
  /** Kept by `troupe run --reuse`: the reuse file that records it (`lab gc` leaves it while that file lists it). */
  readonly reuse?: string;
  readonly backend?: string;
  readonly system?: string;
  /** The `unshare` process holding the host's namespaces, while it runs. */
  readonly init?: ProcId;
  /** The host's public key line (`ssh-ed25519 AAAA...`). */
  readonly hostKey?: string;
  readonly createdAt: string;
  /** Being made: not a whole host yet. Records without it (and those of older troupes) are whole. */
  readonly making?: true;
}

export function recordPath(stateDir: string, slot: number): string {
  return hostPaths(stateDir, slot).record;
}

/** What to do about an error reading the lab's state, by its errno code. */
function readFailure(err: unknown, what: string): TroupeError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code ? `${e.code} (${e.message})` : errorText(err);
  const hint = e.code === "EACCES" || e.code === "EPERM" ? "; lab hosts are root's: run troupe as root, e.g. with sudo" : "";
  return new TroupeError("E_BACKEND", `lab: cannot read the lab's ${what}: ${why}${hint}`);
}

/** ENOENT: the file or directory is not there (no lab, or a host removed meanwhile). */
function missing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

/**
 * Every record, sorted by slot. Only a missing state directory means no lab:
 * any other error reading it or a record (permissions, a file where the
 * directory should be) is an E_BACKEND error. A record removed while being
 * listed is left out; one that is not a valid record is skipped. Read
 * synchronously: a few hundred small local files, where awaiting each read
 * (open, stat, read, close through the thread pool) cost 35 ms at 100 hosts,
 * on the path of `troupe exec lab` before its first connection.
 */
export async function listRecords(stateDir: string): Promise<LabHostRecord[]> {
  const dir = labPaths(stateDir).hostsDir;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (missing(err)) return [];
    throw readFailure(err, `records in ${dir}`);
  }
  const out: LabHostRecord[] = [];
  for (const name of names) {
    const m = /^(\d+)\.json$/.exec(name);
    if (!m) continue;
    const slot = Number(m[1]);
    const path = recordPath(stateDir, slot);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if (missing(err)) continue;
      throw readFailure(err, `record ${path}`);
    }
    const rec = parseRecord(text, slot);
    if (rec) out.push(rec);
  }
  return out.sort((a, b) => a.slot - b.slot);
}

/** A record's text, if it is a valid record of `slot`. */
function parseRecord(text: string, slot: number): LabHostRecord | undefined {
  try {
    const rec = JSON.parse(text) as LabHostRecord;
    return rec && rec.version === 1 && rec.slot === slot ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** The record of `slot`; undefined when there is none (E_BACKEND when it cannot be read). */
export async function readRecord(stateDir: string, slot: number): Promise<LabHostRecord | undefined> {
  const path = recordPath(stateDir, slot);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (missing(err)) return undefined;
    throw readFailure(err, `record ${path}`);
  }
  return parseRecord(text, slot);
}

/** Replace a record (atomically: write aside, rename). */
export async function writeRecord(stateDir: string, rec: LabHostRecord): Promise<void> {
  const path = recordPath(stateDir, rec.slot);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(rec, null, 2)}\n`);
  await rename(tmp, path);
}

export async function removeRecord(stateDir: string, slot: number): Promise<void> {
  await rm(recordPath(stateDir, slot), { force: true });
}

/** Slots this process is claiming right now (so parallel claims don't all try the same). */
const claiming = new Set<string>();

export type NewRecord = Omit<LabHostRecord, "version" | "slot" | "address" | "netns" | "veth" | "dir" | "createdAt" | "making">;

/**
 * Create `rec`'s record unless the slot has one: written aside, then linked
 * into place, so that a record is never seen half-written. False if the
 * slot is taken.
 */
export async function createRecord(stateDir: string, rec: LabHostRecord): Promise<boolean> {
  const path = recordPath(stateDir, rec.slot);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o644 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The pid in the name of a record written aside (`N.json.PID.tmp`), if it is one. */
export function asideWriter(fileName: string): number | undefined {
  const m = /^\d+\.json\.(\d+)\.tmp$/.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

/**
 * Claim the lowest free slot: create its record exclusively, `making` until
 * the host is whole. A slot whose netns or veth still exists without a
 * record (a crash mid-teardown) is skipped until `lab gc` removes it.
 */
export async function claimSlot(
  stateDir: string,
  data: NewRecord,
  addressOf: (slot: number) => string,
  only?: number,
): Promise<LabHostRecord> {
  const hostsDir = labPaths(stateDir).hostsDir;
  await mkdir(hostsDir, { recursive: true, mode: 0o755 });
  const taken = new Set<number>();
  for (const name of readdirSync(hostsDir)) {
    const m = /^(\d+)\.json$/.exec(name);
    if (m) taken.add(Number(m[1]));
  }
  for (let slot = only ?? 1; slot <= (only ?? MAX_SLOTS); slot++) {
    const key = `${stateDir}#${slot}`;
    if (taken.has(slot) || claiming.has(key)) continue;
    if (existsSync(`/run/netns/${netnsName(slot)}`) || existsSync(`/sys/class/net/${vethName(slot)}`)) continue;
    claiming.add(key);
    try {
      const rec: LabHostRecord = {
        version: 1,
        slot,
        address: addressOf(slot),
        netns: netnsName(slot),
        veth: vethName(slot),
        dir: hostPaths(stateDir, slot).dir,
        createdAt: new Date().toISOString(),
        ...data,
        making: true,
      };
      if (await createRecord(stateDir, rec)) return rec;
    } finally {
      claiming.delete(key);
    }
  }
  if (only !== undefined) throw new TroupeError("E_BACKEND", `lab: slot ${only} (${addressOf(only)}) is taken`);
  throw new TroupeError("E_BACKEND", `lab: no free host slot (at most ${MAX_SLOTS} lab hosts on one machine)`);
}
