// The image store: one directory per recipe, named by its key, under
// /var/cache/troupe/images (root) or ~/.cache/troupe/images (TROUPE_IMAGE_DIR
// overrides both). An entry appears whole: it is built under a partial name
// and renamed; so is each output inside it. A lock per key keeps two builds
// of one recipe apart.
//
//   STORE/KEY/recipe.json     the recipe and when it was built
//   STORE/KEY/rootfs.tar      the configured root filesystem (docker, lxd)
//   STORE/KEY/qemu/           root.img (ext4, no partition table), vmlinuz, initrd
//   STORE/KEY/T-NAME.json     an output made: T is docker, lxd or qemu; NAME its
//                             name (the system's, or --as); the image id,
//                             the LXD fingerprint, the installed files
//   STORE/KEY.lock            held while a build of KEY runs
//   STORE/.partial-KEY        an entry being built (removed on Ctrl-C, or by the next build)
//   STORE/logs/NAME-KEY.log   the last build's commands' output

import { homedir } from "node:os";
import { join } from "node:path";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { acquireLock, type HeldLock } from "../backends/reuse/lock.js";
import type { Recipe, Target } from "./recipe.js";

/** Where the store is: TROUPE_IMAGE_DIR, else the system cache for root, else the user's. */
export function storeDir(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  const given = env["TROUPE_IMAGE_DIR"]?.trim();
  if (given) return given;
  if (uid === 0) return "/var/cache/troupe/images";
  const cache = env["XDG_CACHE_HOME"]?.trim() || join(env["HOME"] || homedir(), ".cache");
  return join(cache, "troupe", "images");
}

export interface EntryPaths {
  readonly dir: string;
  readonly partial: string;
  readonly lock: string;
  readonly recipe: string;
  readonly rootfs: string;
  readonly qemuDir: string;
  readonly qemuPartial: string;
  readonly log: string;
  /** The record of one output made under one name. */
  output(target: Target, name: string): string;
}

export function entryPaths(store: string, key: string, name: string): EntryPaths {
  const dir = join(store, key);
  return {
    dir,
    partial: join(store, `.partial-${key}`),
    lock: join(store, `${key}.lock`),
    recipe: join(dir, "recipe.json"),
    rootfs: join(dir, "rootfs.tar"),
    qemuDir: join(dir, "qemu"),
    qemuPartial: join(dir, ".partial-qemu"),
    log: join(store, "logs", `${name}-${key}.log`),
    output: (target, name) => join(dir, `${target}-${name}.json`),
  };
}

/** What recipe.json holds. */
export interface EntryRecord {
  readonly key: string;
  readonly recipe: Recipe;
  readonly builtAt: string;
}

/** What T-NAME.json holds: where the output is. */
export interface OutputRecord {
  readonly target: Target;
  readonly name: string;
  /** Docker's image id, LXD's fingerprint, the qemu image's path. */
  readonly id: string;
  /** What a backend finds it by: NAME:latest, the LXD aliases, the files. */
  readonly names: readonly string[];
  readonly at: string;
}

export interface Entry extends EntryRecord {
  readonly dir: string;
  readonly bytes: number;
  /** The outputs made of it, as last recorded (an engine's images may have gone since). */
  readonly outputs: readonly OutputRecord[];
}

/** Take the key's lock, waiting (and saying so) while another build of it runs. */
export async function lockEntry(store: string, key: string, onWait: (pid: number) => void, signal?: AbortSignal): Promise<HeldLock> {
  await mkdir(store, { recursive: true });
  return acquireLock(join(store, `${key}.lock`), { onWait, ...(signal ? { signal } : {}) });
}

/** Write a JSON file whole: to a temporary name, then renamed over. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** The complete entries of the store (partial ones and stray files are not entries), by name then date. */
export async function listEntries(store: string): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(store);
  } catch {
    return [];
  }
  const entries: Entry[] = [];
  for (const key of names) {
    if (!/^[0-9a-f]{16}$/.test(key)) continue;
    const dir = join(store, key);
    const record = await readJson<EntryRecord>(join(dir, "recipe.json"));
    if (!record || record.key !== key) continue;
    const outputs: OutputRecord[] = [];
    for (const f of (await readdir(dir)).filter((n) => /^(docker|lxd|qemu)-.+\.json$/.test(n)).sort()) {
      const o = await readJson<OutputRecord>(join(dir, f));
      if (o) outputs.push(o);
    }
    entries.push({ ...record, dir, bytes: await diskBytes(dir), outputs });
  }
  return entries.sort((a, b) => a.recipe.name.localeCompare(b.recipe.name) || a.builtAt.localeCompare(b.builtAt));
}

/** Blocks in use under `dir` (sparse images count for what they hold). */
async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    const s = await stat(p).catch(() => undefined);
    if (!s) continue;
    total += s.isDirectory() ? await diskBytes(p) : s.blocks * 512;
  }
  return total;
}

/** Move a finished directory into place (replacing an older one of the same name). */
export async function publish(partial: string, final: string): Promise<void> {
  await rm(final, { recursive: true, force: true });
  await rename(partial, final);
}
