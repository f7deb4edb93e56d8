// Who made a machine: the labels troupe puts on everything a backend creates
// (containers, VMs, images, cloud instances), and whether that maker is gone.
// `troupe gc` removes a machine only when its owner is known to be dead on
// this machine, or its halt time has passed.
//
// Label keys are kebab-case ASCII; values are lower-case letters, digits, `-`
// and `_` (the strictest rules of the engines troupe labels: GCE's), so every
// backend can store them as they are. A backend with a namespace for its own
// keys (LXD's `user.`) adds its prefix.

import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { procId, type ProcId, isRunning } from "../backends/lab/procs.js";

export const LABEL_TROUPE = "troupe";
export const LABEL_RUN = "troupe-run";
export const LABEL_OWNER = "troupe-owner";
/** `<pid>_<start ticks>_<boot id without dashes>`: the process that made it, on which boot. */
export const LABEL_PROCESS = "troupe-process";
/** RFC 3339 UTC with `:` spelt `-` is not RFC 3339; troupe writes seconds since the epoch. */
export const LABEL_HALT_AT = "troupe-halt-at";

export interface Owner {
  /** The run's id, when a run made it. */
  readonly run?: string;
  /** The user troupe ran as. */
  readonly user: string;
  /** The troupe process, on this machine's current boot. */
  readonly process: ProcId;
  readonly boot: string;
}

/** This machine's boot id (`/proc/sys/kernel/random/boot_id`), dashes removed. */
export function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replace(/-/g, "");
  } catch {
    return "unknown";
  }
}

function labelSafe(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "_")
    .slice(0, 63);
}

/** The owner of what this process makes for run `run`. */
export function currentOwner(run?: string): Owner {
  const self = procId(process.pid);
  if (!self) throw new Error("cannot read /proc/self/stat");
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = String(process.getuid?.() ?? "unknown");
  }
  return { ...(run ? { run } : {}), user, process: self, boot: bootId() };
}

/** The labels to put on what `owner` makes; `haltAt`, when it has a lifetime. */
export function ownerLabels(owner: Owner, haltAt?: Date): Record<string, string> {
  return {
    [LABEL_TROUPE]: "1",
    [LABEL_OWNER]: labelSafe(owner.user),
    [LABEL_PROCESS]: `${owner.process.pid}_${owner.process.start}_${owner.boot}`,
    ...(owner.run ? { [LABEL_RUN]: labelSafe(owner.run) } : {}),
    ...(haltAt ? { [LABEL_HALT_AT]: String(Math.floor(haltAt.getTime() / 1000)) } : {}),
  };
}

export interface LabelledOwner {
  readonly run?: string;
  readonly user?: string;
  readonly process?: ProcId;
  readonly boot?: string;
  readonly haltAt?: Date;
}

/** What `ownerLabels` wrote, read back; undefined when the labels are not troupe's. */
export function parseOwnerLabels(labels: Readonly<Record<string, string | undefined>>): LabelledOwner | undefined {
  if (labels[LABEL_TROUPE] !== "1") return undefined;
  const proc = /^(\d+)_(\d+)_([0-9a-z]+)$/.exec(labels[LABEL_PROCESS] ?? "");
  const halt = Number(labels[LABEL_HALT_AT]);
  const run = labels[LABEL_RUN];
  const user = labels[LABEL_OWNER];
  return {
    ...(run ? { run } : {}),
    ...(user ? { user } : {}),
    ...(proc ? { process: { pid: Number(proc[1]), start: Number(proc[2]) }, boot: proc[3]! } : {}),
    ...(Number.isFinite(halt) && halt > 0 ? { haltAt: new Date(halt * 1000) } : {}),
  };
}

/**
 * Why `gc` may remove what `owner` made, or undefined when it may not: its
 * halt time has passed, or its process is known dead (this machine rebooted
 * since, or the process is gone). A machine whose maker ran on another
 * machine and has no halt time is never collected: nothing here can tell.
 */
export function collectableBecause(owner: LabelledOwner, now = new Date(), thisBoot = bootId()): string | undefined {
  if (owner.haltAt && owner.haltAt.getTime() <= now.getTime()) return `its halt time ${owner.haltAt.toISOString()} has passed`;
  if (!owner.process || !owner.boot) return undefined;
  if (owner.boot !== thisBoot) return "the machine that made it has rebooted since";
  if (!isRunning(owner.process)) return `the troupe process ${owner.process.pid} that made it is gone`;
  return undefined;
}
