// What `troupe lab up|down|gc|status` do. These return data; the CLI prints.

import { setMaxListeners } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { Semaphore } from "../../transport/ssh/limiter.js";
import { isRecorded } from "../reuse/recorded.js";
import { TroupeError } from "../../util/errors.js";
import { naturalCompare } from "../../util/natural-order.js";
import { checkLabSupport, createHost, destroyHost, slotNames } from "./host.js";
import { BRIDGE, DEFAULT_STATE_DIR, hostnameFor, hostPaths, labPaths, netnsName, slotAddress, slotOfName, vethName } from "./layout.js";
import { isRunning, procId, selfId } from "./procs.js";
import { asideWriter, createRecord, listRecords, removeRecord, type LabHostRecord } from "./records.js";
import { run, sh } from "./run.js";
import { removeBridgeScript, teardownScript } from "./scripts.js";
import { errorText } from "../../util/text.js";

export interface LabOptions {
  /** The lab's state directory (default /run/troupe-lab). */
  readonly stateDir?: string;
}

export interface LabHostInfo {
  readonly name: string;
  readonly address: string;
  readonly slot: number;
  /** The lab it belongs to (`lab up --name`); absent for hosts of a run. */
  readonly lab?: string;
  readonly kept: boolean;
  /** Kept by `troupe run --reuse`: the reuse file that records it. */
  readonly reuse?: string;
  /** Its processes (sshd and all) are up. */
  readonly running: boolean;
  /** Not whole yet: being made, or half-made by a troupe process that is gone (`lab gc` removes it). */
  readonly making: boolean;
  /** The troupe process that made it still runs. */
  readonly ownerAlive: boolean;
  readonly ownerPid: number;
  readonly backend?: string;
  readonly system?: string;
  readonly createdAt: string;
  /** A command that logs into it. */
  readonly ssh: string;
}

export interface LabStatus {
  readonly stateDir: string;
  readonly bridge: boolean;
  readonly hosts: readonly LabHostInfo[];
  /** `ssh -F <sshConfig> NAME` reaches any host by name or address. */
  readonly sshConfig: string;
  readonly identityFile: string;
  readonly knownHosts: string;
}

export interface LabUpOptions extends LabOptions {
  /** The lab's name; hosts are called NAME-1, NAME-2, ... (default `lab`). */
  readonly name?: string;
  /** Hosts made at once (default 8). */
  readonly concurrency?: number;
  readonly tmpfsSize?: string;
  /**
   * Stops making hosts when it aborts: every host this call started is
   * removed again (hosts that were up before stay), and labUp rejects with
   * E_INTERRUPTED.
   */
  readonly signal?: AbortSignal;
}

export interface LabUpResult extends LabStatus {
  readonly lab: string;
  /** Names of the hosts made now (the others were up already). */
  readonly created: readonly string[];
  /** The lab's hosts, made now or before. */
  readonly labHosts: readonly LabHostInfo[];
}

export interface LabDownOptions extends LabOptions {
  /** Which lab (default `lab`). */
  readonly name?: string;
  /** Every lab host of the machine, kept or not, whoever made it. */
  readonly all?: boolean;
}

export interface LabGcOptions extends LabOptions {
  /** Also hosts of `lab up` and of troupe processes still running. */
  readonly all?: boolean;
}

export interface LabRemoval {
  /** Hosts removed by name. */
  readonly removed: readonly string[];
  /** Leftovers with no record (namespaces, veths, mounts, directories), by slot. */
  readonly orphans: readonly number[];
  readonly bridgeRemoved: boolean;
}

function info(stateDir: string, rec: LabHostRecord): LabHostInfo {
  return {
    name: rec.name,
    address: rec.address,
    slot: rec.slot,
    ...(rec.lab !== undefined ? { lab: rec.lab } : {}),
    kept: rec.keep,
    ...(rec.reuse !== undefined ? { reuse: rec.reuse } : {}),
    running: isRunning(rec.init),
    making: rec.making === true,
    ownerAlive: isRunning(rec.owner),
    ownerPid: rec.owner.pid,
    ...(rec.backend !== undefined ? { backend: rec.backend } : {}),
    ...(rec.system !== undefined ? { system: rec.system } : {}),
    createdAt: rec.createdAt,
    ssh: `ssh -F ${labPaths(stateDir).sshConfig} ${rec.name}`,
  };
}

/**
 * Rewrite the lab's ssh_config and known_hosts from `records`. Every troupe
 * process that changes the lab does, and users' ssh reads them meanwhile: so
 * each file is written aside and renamed into place (never seen half
 * written), and once both are in place the records are listed again, and
 * the files rewritten should they differ (the last process to write may have
 * listed the records before another process made a host).
 */
export async function writeSshFiles(stateDir: string, records: readonly LabHostRecord[]): Promise<void> {
  let wrote = await writeSshFilesOnce(stateDir, records);
  for (let n = 0; n < 10; n++) {
    const now = sshFileTexts(stateDir, await listRecords(stateDir));
    if (now.config === wrote.config && now.known === wrote.known) return;
    wrote = await writeSshFilesOnce(stateDir, undefined, now);
  }
}

async function writeSshFilesOnce(
  stateDir: string,
  records: readonly LabHostRecord[] | undefined,
  texts = sshFileTexts(stateDir, records ?? []),
): Promise<{ config: string | undefined; known: string | undefined }> {
  const p = labPaths(stateDir);
  const put = async (path: string, text: string | undefined): Promise<void> => {
    if (text === undefined) return rm(path, { force: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  };
  await put(p.knownHosts, texts.known);
  await put(p.sshConfig, texts.config);
  return texts;
}

/** The two files' texts for `records`; undefined: no file. */
function sshFileTexts(stateDir: string, records: readonly LabHostRecord[]): { config: string | undefined; known: string | undefined } {
  if (records.length === 0) return { config: undefined, known: undefined };
  const p = labPaths(stateDir);
  const seen = new Set<string>();
  const blocks: string[] = ["# Written by troupe lab; `ssh -F THIS-FILE NAME` logs into a lab host.", ""];
  for (const rec of records) {
    const patterns = [rec.name, rec.address].filter((x) => !seen.has(x));
    for (const x of patterns) seen.add(x);
    if (patterns.length === 0) continue;
    blocks.push(
      `Host ${patterns.join(" ")}`,
      `  HostName ${rec.address}`,
      "  User root",
      `  IdentityFile ${p.keyFile}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${p.knownHosts}`,
      "  GlobalKnownHostsFile /dev/null",
      "  StrictHostKeyChecking yes",
      "  UpdateHostKeys no",
      "",
    );
  }
  const known = records.filter((r) => r.hostKey).map((r) => `${r.address} ${r.hostKey}`);
  return { config: blocks.join("\n"), known: known.length ? `${known.join("\n")}\n` : "" };
}

async function status(stateDir: string): Promise<LabStatus> {
  const records = await listRecords(stateDir);
  await writeSshFiles(stateDir, records);
  const p = labPaths(stateDir);
  return {
    stateDir,
    bridge: existsSync(`/sys/class/net/${BRIDGE}`),
    hosts: records.map((r) => info(stateDir, r)),
    sshConfig: p.sshConfig,
    identityFile: p.keyFile,
    knownHosts: p.knownHosts,
  };
}

/** Every lab host of this machine. */
export async function labStatus(opts: LabOptions = {}): Promise<LabStatus> {
  return status(opts.stateDir ?? DEFAULT_STATE_DIR);
}

/** Make sure lab `name` has `n` hosts (NAME-1..NAME-n) that outlive this process, until `labDown`. */
export async function labUp(n: number, opts: LabUpOptions = {}): Promise<LabUpResult> {
  if (!Number.isInteger(n) || n < 1) throw new TroupeError("E_USAGE", `lab up needs a number of hosts >= 1, not ${n}`);
  checkLabSupport();
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const lab = hostnameFor(opts.name ?? "lab");
  const ours = (await listRecords(stateDir)).filter((r) => r.keep && r.lab === lab);
  // Half-made by a `lab up` that died: made again (and what it was writing goes).
  const stale = ours.filter((r) => r.making && !isRunning(r.owner));
  await removeAll(stateDir, stale);
  if (stale.length > 0) await removeAsideFiles(stateDir);
  const existing = new Set(ours.filter((r) => !stale.includes(r)).map((r) => r.name));
  const wanted: string[] = [];
  for (let k = 1; k <= n; k++) {
    const name = `${lab}-${k}`;
    if (!existing.has(name)) wanted.push(name);
  }
  const limit = new Semaphore(Math.max(1, opts.concurrency ?? 8));
  // One signal that every host waiting its turn listens to: the caller's, relayed.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const relay = (): void => stop.abort();
  if (opts.signal?.aborted) stop.abort();
  else opts.signal?.addEventListener("abort", relay, { once: true });
  const results = await Promise.allSettled(
    wanted.map((name) =>
      limit.run(
        () =>
          createHost({
            stateDir,
            name,
            keep: true,
            lab,
            ...(opts.tmpfsSize !== undefined ? { tmpfsSize: opts.tmpfsSize } : {}),
            signal: stop.signal,
          }),
        stop.signal,
      ),
    ),
  ).finally(() => opts.signal?.removeEventListener("abort", relay));
  const made = results.filter((r): r is PromiseFulfilledResult<LabHostRecord> => r.status === "fulfilled").map((r) => r.value);
  if (stop.signal.aborted) {
    // Hosts still being made removed themselves; these were whole.
    const removed = await removeAll(stateDir, made);
    await finish(stateDir);
    throw new TroupeError(
      "E_INTERRUPTED",
      `lab up interrupted: removed the ${removed.length} host(s) of lab ${lab} it had made${existing.size ? `; the ${existing.size} that were up before stay` : ""}`,
    );
  }
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  const created = made.map((r) => r.name);
  const st = await status(stateDir);
  if (failed.length > 0) {
    const first = failed[0]!.reason as unknown;
    const why = errorText(first);
    throw new TroupeError(
      "E_BACKEND",
      `lab: ${failed.length} of ${wanted.length} hosts could not be made (${created.length} were): ${why}`,
    );
  }
  return {
    ...st,
    lab,
    created: created.sort(naturalCompare),
    labHosts: st.hosts.filter((h) => h.kept && h.lab === lab).sort((a, b) => naturalCompare(a.name, b.name)),
  };
}

/** Remove lab `name` (or, with `all`, every lab host of the machine). */
export async function labDown(opts: LabDownOptions = {}): Promise<LabRemoval> {
  checkLabSupport();
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const lab = hostnameFor(opts.name ?? "lab");
  const records = await listRecords(stateDir);
  const doomed = records.filter((r) => opts.all || (r.keep && r.lab === lab));
  const removed = await removeAll(stateDir, doomed);
  return { removed, orphans: opts.all ? await removeOrphans(stateDir) : [], bridgeRemoved: await finish(stateDir) };
}

/**
 * Remove what crashed troupe processes left: hosts whose maker is gone (but
 * not whole `lab up` hosts, nor hosts kept by `troupe run --reuse` while
 * their reuse file lists them), half-made hosts whose maker is gone (even
 * those `lab up` was making), and namespaces, veths, mounts, processes and
 * directories of the lab that no record names.
 */
export async function labGc(opts: LabGcOptions = {}): Promise<LabRemoval> {
  checkLabSupport();
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  // Kernel objects first, records second: anything made after this look has a record already.
  const orphans = await removeOrphans(stateDir);
  const records = await listRecords(stateDir);
  const doomed = records.filter((r) => opts.all || collectable(r));
  const removed = await removeAll(stateDir, doomed);
  return { removed, orphans, bridgeRemoved: await finish(stateDir) };
}

/**
 * Whether `lab gc` removes a host: its maker is gone, and it is half-made
 * or not kept (by `lab up`, or by `troupe run --reuse` while the reuse file
 * lists it).
 */
export function collectable(r: LabHostRecord): boolean {
  return !isRunning(r.owner) && (r.making === true || !r.keep || forgottenByReuse(r));
}

/** A host kept for reuse whose reuse file no longer lists it (removed, or edited). */
function forgottenByReuse(r: LabHostRecord): boolean {
  if (r.reuse === undefined || r.lab !== undefined) return false;
  return !isRecorded(r.reuse, { backend: r.backend ?? "", address: r.address, name: r.name });
}

async function removeAll(stateDir: string, records: readonly LabHostRecord[]): Promise<string[]> {
  const limit = new Semaphore(8);
  const results = await Promise.allSettled(records.map((r) => limit.run(() => destroyHost(stateDir, r).then(() => r.name))));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0) {
    const first = failed[0]!.reason as unknown;
    throw new TroupeError("E_BACKEND", `lab: ${failed.length} hosts could not be removed: ${errorText(first)}`);
  }
  return results.map((r) => (r as PromiseFulfilledResult<string>).value);
}

/** Slots that have kernel objects or files but no record. */
function orphanSlots(stateDir: string): number[] {
  const slots = new Set<number>();
  const add = (s: number | undefined): void => {
    if (s !== undefined) slots.add(s);
  };
  for (const name of safeReaddir("/run/netns")) if (name.startsWith("troupe-lab-")) add(slotOfName(name));
  for (const name of safeReaddir("/sys/class/net")) if (name.startsWith("tlab")) add(slotOfName(name));
  const hostsDir = labPaths(stateDir).hostsDir;
  for (const name of safeReaddir(hostsDir)) if (/^\d+$/.test(name)) add(Number(name));
  try {
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const mountPoint = line.split(" ")[1] ?? "";
      const m = new RegExp(`^${escapeRegExp(hostsDir)}/(\\d+)/`).exec(`${mountPoint}/`);
      if (m) add(Number(m[1]));
    }
  } catch {
    /* no /proc/mounts: nothing to add */
  }
  return [...slots].filter((s) => !existsSync(hostPaths(stateDir, s).record)).sort((a, b) => a - b);
}

/**
 * Remove the leftovers of slots with no record. Each slot is claimed first
 * with a record of this process, so that no troupe process takes it while
 * it is being cleaned (a slot another one claimed meanwhile is left alone).
 */
async function removeOrphans(stateDir: string): Promise<number[]> {
  const cleaned: number[] = [];
  for (const slot of orphanSlots(stateDir)) if (await removeOrphanSlot(stateDir, slot)) cleaned.push(slot);
  await removeAsideFiles(stateDir);
  return cleaned;
}

/** Remove the leftovers of one slot with no record; false when another process claimed it meanwhile. */
async function removeOrphanSlot(stateDir: string, slot: number): Promise<boolean> {
  const rec: LabHostRecord = {
    version: 1,
    slot,
    name: `gc-${slot}`,
    address: slotAddress(slot),
    netns: netnsName(slot),
    veth: vethName(slot),
    dir: hostPaths(stateDir, slot).dir,
    owner: selfId(),
    keep: false,
    createdAt: new Date().toISOString(),
    making: true,
  };
  if (!(await createRecord(stateDir, rec))) return false;
  try {
    await sh(teardownScript(slotNames(stateDir, rec)), `remove the leftovers of lab slot ${slot}`);
  } finally {
    await removeRecord(stateDir, slot);
  }
  return true;
}

/** For `troupe gc`: what `lab gc` would remove, one by one (gc/collector.ts). */
export async function labLeftovers(
  opts: LabGcOptions = {},
): Promise<{ readonly hosts: readonly LabHostRecord[]; readonly orphanSlots: readonly number[] }> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const records = await listRecords(stateDir);
  return { hosts: records.filter((r) => opts.all || collectable(r)), orphanSlots: orphanSlots(stateDir) };
}

/** Remove one host `labLeftovers` found (gone already is fine). */
export async function removeLabHost(rec: LabHostRecord, opts: LabOptions = {}): Promise<void> {
  await removeAll(opts.stateDir ?? DEFAULT_STATE_DIR, [rec]);
}

/** Remove the leftovers of one slot `labLeftovers` found. */
export async function removeLabOrphanSlot(slot: number, opts: LabOptions = {}): Promise<void> {
  await removeOrphanSlot(opts.stateDir ?? DEFAULT_STATE_DIR, slot);
}

/** After removals: files written aside by dead processes, and the bridge when no host is left. */
export async function labTidy(opts: LabOptions = {}): Promise<boolean> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  await removeAsideFiles(stateDir);
  return finish(stateDir);
}

/** Records and ssh files written aside by processes that died before putting them in place. */
async function removeAsideFiles(stateDir: string): Promise<void> {
  const hostsDir = labPaths(stateDir).hostsDir;
  for (const name of safeReaddir(hostsDir)) {
    const writer = asideWriter(name);
    if (writer !== undefined && procId(writer) === undefined) await rm(`${hostsDir}/${name}`, { force: true });
  }
  for (const name of safeReaddir(stateDir)) {
    const writer = /^(?:ssh_config|known_hosts|neigh\.batch)\.(\d+)\.tmp$/.exec(name)?.[1];
    if (writer !== undefined && procId(Number(writer)) === undefined) await rm(`${stateDir}/${name}`, { force: true });
  }
}

/** Once no host is left: remove the bridge and the ssh files. */
async function finish(stateDir: string): Promise<boolean> {
  const records = await listRecords(stateDir);
  await writeSshFiles(stateDir, records);
  if (records.length > 0 || !existsSync(`/sys/class/net/${BRIDGE}`)) return false;
  // Checked again under the bridge lock: another process may be adding a host.
  const { hostsDir, bridgeLock, neighSaved } = labPaths(stateDir);
  const r = await run("/bin/sh", ["-c", removeBridgeScript(hostsDir, bridgeLock, neighSaved)]);
  if (r.code === 3) return false;
  if (r.code !== 0)
    throw new TroupeError("E_BACKEND", `lab: cannot remove the bridge ${BRIDGE}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  return true;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
