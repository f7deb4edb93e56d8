// A reuse file opened by one troupe process: locked for as long as it is
// open, read once, then rewritten on every change. Each write goes to
// `FILE.tmp`, is synced, and renamed over the file, so that a crash, a
// SIGKILL or a full disk leaves either the old or the new content, never a
// mix. Changes made while a write is under way go out together in the next
// one.

import { existsSync } from "node:fs";
import { lstat, mkdir, open, readFile, readlink, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { TroupeError } from "../../util/errors.js";
import type { RecordedHost } from "../backend.js";
import { formatReuseFile, parseReuseFile, reuseFileName, spreadReuseFileName, type ReadHost } from "./file.js";
import { acquireLock, type HeldLock, type LockOptions } from "./lock.js";
import { formatSpreadReuseFile } from "./spread-format.js";

export interface OpenStoreOptions extends LockOptions {
  /** The project directory, where reuse files live. */
  readonly dir: string;
  /** The file of run PID (`.troupe-reuse.PID.yaml`) rather than `.troupe-reuse.yaml`. */
  readonly pid?: number;
  /** Read Spread's file (`.spread-reuse[.PID].yaml`) when troupe's does not exist (default true). */
  readonly readSpread?: boolean;
  /** Also write Spread's file (`.spread-reuse[.PID].yaml`) in Spread's format, for a Spread project (spread-format.ts). */
  readonly writeSpread?: boolean;
}

/** Where the entries came from. */
export type StoreSource = "troupe" | "spread" | "none";

export class ReuseStore {
  private hosts: RecordedHost[];
  /** Changes made, and changes on disk. */
  private changes = 0;
  private written = 0;
  private writing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    /** The file troupe writes. */
    readonly path: string,
    /** The file the entries were read from: `path`, Spread's, or none. */
    readonly readFrom: string | undefined,
    readonly source: StoreSource,
    hosts: RecordedHost[],
    private readonly lock: HeldLock,
    /** Spread's file, written with troupe's for a Spread project. */
    private readonly spreadCopy: string | undefined,
  ) {
    this.hosts = hosts;
  }

  static async open(o: OpenStoreOptions): Promise<ReuseStore> {
    const path = join(o.dir, reuseFileName(o.pid));
    await mkdir(dirname(path), { recursive: true });
    const lock = await acquireLock(`${path}.lock`, o);
    try {
      // A write that a crash cut short; the file itself is whole.
      await rm(`${path}.tmp`, { force: true });
      let readFrom: string | undefined;
      let source: StoreSource = "none";
      let read: ReadHost[] = [];
      if (existsSync(path)) {
        readFrom = path;
        source = "troupe";
        read = parseReuseFile(await readText(path), path);
      } else if (o.readSpread !== false) {
        const spread = join(o.dir, spreadReuseFileName(o.pid));
        // Spread writes FILE.new whole first; while it exists, it is the truth (spread/reuse.go).
        const candidate = existsSync(`${spread}.new`) ? `${spread}.new` : existsSync(spread) ? spread : undefined;
        if (candidate) {
          readFrom = candidate;
          source = "spread";
          read = parseReuseFile(await readText(candidate), candidate);
        }
      }
      const spreadCopy = o.writeSpread ? join(o.dir, spreadReuseFileName(o.pid)) : undefined;
      return new ReuseStore(path, readFrom, source, nameAll(read), lock, spreadCopy);
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw err;
    }
  }

  /** The recorded hosts, in file order. */
  list(): readonly RecordedHost[] {
    return this.hosts;
  }

  /**
   * Record `host`. With `systems` (its backend's systems, in the project's
   * order), it goes after the hosts of its backend whose system comes no
   * later, not after every host: hosts come up in any order, and readers of
   * Spread's file take the first system as the project's first (Spread's
   * own adhoc test reads `systems[0]`).
   */
  async add(host: RecordedHost, systems?: readonly string[]): Promise<void> {
    const rest = this.hosts.filter((h) => !sameHost(h, host));
    const rank = (h: RecordedHost): number => {
      const i = systems?.indexOf(h.system) ?? -1;
      return i < 0 ? Infinity : i;
    };
    const mine = rank(host);
    const before = rest.findIndex((h) => h.backend === host.backend && rank(h) > mine);
    this.hosts = before < 0 ? [...rest, host] : [...rest.slice(0, before), host, ...rest.slice(before)];
    await this.save();
  }

  async remove(host: Pick<RecordedHost, "backend" | "system" | "name">): Promise<void> {
    const before = this.hosts.length;
    this.hosts = this.hosts.filter((h) => !sameHost(h, host));
    if (this.hosts.length !== before) await this.save();
  }

  /** Write the entries now, even unchanged (to take over from Spread's file). Resolves once a write made after the call is on disk. */
  async save(): Promise<void> {
    if (this.closed) throw new TroupeError("E_BACKEND", `${this.path}: written after it was closed`);
    const mine = ++this.changes;
    while (this.written < mine) {
      if (this.writing) {
        await this.writing.catch(() => undefined);
        continue;
      }
      const upto = this.changes;
      const hosts = this.hosts;
      this.writing = writeSynced(this.path, formatReuseFile(hosts))
        .then(() => (this.spreadCopy ? writeThrough(this.spreadCopy, formatSpreadReuseFile(hosts)) : undefined))
        .then(() => {
          this.written = Math.max(this.written, upto);
        })
        .finally(() => (this.writing = undefined));
      await this.writing;
    }
  }

  /** Remove the file (its entries are dealt with). */
  async deleteFile(): Promise<void> {
    await this.settle();
    await rm(this.path, { force: true });
    // Spread removes its file (a link to it is what goes) once nothing is left to keep.
    if (this.spreadCopy) await rm(this.spreadCopy, { force: true });
  }

  /** Wait for writes under way, and unlock. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settle();
    this.closed = true;
    await this.lock.release();
  }

  private async settle(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }
}

export function sameHost(
  a: Pick<RecordedHost, "backend" | "system" | "name">,
  b: Pick<RecordedHost, "backend" | "system" | "name">,
): boolean {
  return a.backend === b.backend && a.system === b.system && a.name === b.name;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new TroupeError("E_USAGE", `cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Give every entry a name unique in the file: Spread's entries have none,
 * and troupe uses names to keep hosts apart (local hosts share an address).
 */
export function nameAll(read: readonly ReadHost[]): RecordedHost[] {
  const taken = new Set(read.flatMap((h) => (h.name ? [h.name] : [])));
  const out: RecordedHost[] = [];
  const seen = new Set<string>();
  for (const h of read) {
    let name = h.name;
    if (name === undefined || seen.has(name)) {
      const base = `${h.system}`.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[.-]+/, "") || "host";
      let n = 1;
      while (taken.has(`${base}-${n}`)) n++;
      name = `${base}-${n}`;
      taken.add(name);
    }
    seen.add(name);
    out.push({ ...h, name });
  }
  return out;
}

/**
 * Write a file that may be a symbolic link (Spread's tests link
 * `.spread-reuse.yaml` to /run): the link's target is written, the link stays.
 */
async function writeThrough(path: string, text: string): Promise<void> {
  let target = path;
  for (let hops = 0; hops < 8; hops++) {
    const st = await lstat(target).catch(() => undefined);
    if (!st?.isSymbolicLink()) break;
    target = resolve(dirname(target), await readlink(target));
  }
  await writeSynced(target, text);
}

/** Write `path` so that it holds the old or the new text whatever happens: temporary file, fsync, rename. */
async function writeSynced(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new TroupeError("E_BACKEND", `cannot write ${path}: ${(err as Error).message}`);
  }
  // The rename itself is durable once the directory is synced; best effort.
  try {
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* some file systems cannot sync a directory */
  }
}
