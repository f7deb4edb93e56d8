// The VMs troupe's qemu backend runs, one JSON record each in a state
// directory, written before QEMU starts and removed once it is gone, so that
// `troupe gc` finds the VMs of a troupe process that was killed: QEMU has no
// labels, so the record holds the owner labels (gc/owner.ts) and the QEMU
// process's identity (pid and start time, so that a recycled pid is never
// killed).

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProcId } from "../lab/procs.js";

export interface VmRecord {
  /** Unique on this machine: `<run or pid>-<host>`; also QEMU's `-name`. */
  readonly id: string;
  /** The host's name in its run. */
  readonly name: string;
  readonly image: string;
  readonly sshPort: number;
  /** gc/owner.ts labels of the troupe process that started it. */
  readonly labels: Readonly<Record<string, string>>;
  /** QEMU, once started. */
  readonly qemu?: ProcId;
  readonly pidFile: string;
  readonly serialLog: string;
  /** ISO time. */
  readonly created: string;
  /** The backend's name and the host's address, as a reuse file lists them. */
  readonly backend?: string;
  readonly address?: string;
  /** Kept for later runs (-reuse) while `reuse` (a reuse file) lists it: gc leaves it alone. */
  readonly keep?: boolean;
  readonly reuse?: string;
}

/** /run/troupe-qemu for root, else a folder of the user's own; TROUPE_QEMU_STATE_DIR overrides. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const set = env["TROUPE_QEMU_STATE_DIR"];
  if (set) return set;
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return "/run/troupe-qemu";
  return join(env["XDG_RUNTIME_DIR"] || tmpdir(), `troupe-qemu-${uid}`);
}

function recordPath(stateDir: string, id: string): string {
  return join(stateDir, `${id}.json`);
}

/** Write (or replace) a record atomically. */
export function writeVmRecord(stateDir: string, rec: VmRecord): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = recordPath(stateDir, rec.id);
  writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 2) + "\n", { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The record `id`, or undefined. */
export function readVmRecord(stateDir: string, id: string): VmRecord | undefined {
  return listVmRecords(stateDir).find((r) => r.id === id);
}

export function removeVmRecord(stateDir: string, id: string): void {
  rmSync(recordPath(stateDir, id), { force: true });
}

function isRecord(v: unknown): v is VmRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r["id"] === "string" && typeof r["name"] === "string" && typeof r["labels"] === "object" && r["labels"] !== null;
}

/** Every readable record; files that are not records are left alone. */
export function listVmRecords(stateDir: string): VmRecord[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  const out: VmRecord[] = [];
  for (const n of names.filter((f) => f.endsWith(".json")).sort()) {
    try {
      const v: unknown = JSON.parse(readFileSync(join(stateDir, n), "utf8"));
      if (isRecord(v)) out.push(v);
    } catch {
      /* being written or removed: not a leftover */
    }
  }
  return out;
}
