// The journals of runs that are gone. Each run records its hosts in
// `.troupe-reuse.PID.yaml` (with its lock, `FILE.lock`) so that hosts a
// killed run leaves can be discarded (`troupe run --reuse-pid=PID
// --discard`); a run that ends removes both. A run killed outright (SIGKILL)
// leaves them in the project. They go once their process is gone, known by
// its identity (pid and start time, in the lock: a recycled pid is not the
// writer), and once nothing is left to discard: the journal lists no host,
// or the caller knows those it lists are gone (`troupe gc` and `troupe lab
// gc` have just removed every machine of that backend type whose troupe
// process is gone). A journal listing a host nobody can vouch for (an adhoc
// host, whose discard script only --discard runs) stays, and is named.

import { readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { procId } from "../lab/procs.js";
import type { RecordedHost } from "../backend.js";
import { parseReuseFile, reuseFileName } from "./file.js";
import { lockHolder } from "./lock.js";

export interface Journal {
  /** The run's troupe process. */
  readonly pid: number;
  /** `.troupe-reuse.PID.yaml`, relative to the project. */
  readonly name: string;
  /** What it lists; undefined when it is missing (a lone lock) or cannot be read. */
  readonly hosts: readonly Pick<RecordedHost, "backend" | "system" | "address">[] | undefined;
  readonly unreadable: boolean;
}

export interface JournalSweep {
  /** Journals removed (or that would be, with dryRun). */
  readonly removed: readonly Journal[];
  /** Journals of dead processes kept, with why. */
  readonly kept: readonly { readonly journal: Journal; readonly why: string }[];
}

const JOURNAL = /^\.troupe-reuse\.(\d+)\.yaml(?:\.lock|\.tmp)?$/;

/** The journals in `projectDir` whose troupe process is gone. */
export async function deadJournals(projectDir: string): Promise<Journal[]> {
  let names: string[];
  try {
    names = await readdir(projectDir);
  } catch {
    return [];
  }
  const pids = [...new Set(names.flatMap((n) => JOURNAL.exec(n)?.[1] ?? []))].map(Number);
  const out: Journal[] = [];
  for (const pid of pids.sort((a, b) => a - b)) {
    const name = reuseFileName(pid);
    const holder = await lockHolder(join(projectDir, `${name}.lock`));
    // Without a lock, the pid alone: a process of that pid may be the writer, so it stays.
    const gone = holder === "absent" ? procId(pid) === undefined : holder === "gone";
    if (!gone) continue;
    let hosts: Journal["hosts"];
    let unreadable = false;
    try {
      hosts = parseReuseFile(await readFile(join(projectDir, name), "utf8"), name);
    } catch (e) {
      unreadable = (e as NodeJS.ErrnoException).code !== "ENOENT";
    }
    out.push({ pid, name, hosts, unreadable });
  }
  return out;
}

/**
 * Remove the journals of dead processes that leave nothing to discard:
 * `gone(backend)` says whether the hosts of that backend (by name, as the
 * journal records them) are known to be gone.
 */
export async function sweepJournals(
  projectDir: string,
  gone: (backend: string) => boolean,
  options: { readonly dryRun?: boolean } = {},
): Promise<JournalSweep> {
  const removed: Journal[] = [];
  const kept: { journal: Journal; why: string }[] = [];
  for (const j of await deadJournals(projectDir)) {
    if (j.unreadable) {
      kept.push({ journal: j, why: "it cannot be read; remove it by hand once its hosts are dealt with" });
      continue;
    }
    const left = (j.hosts ?? []).filter((h) => !gone(h.backend));
    if (left.length > 0) {
      const which = [...new Set(left.map((h) => `${h.backend}:${h.system} (${h.address})`))].join(", ");
      kept.push({ journal: j, why: `it lists ${which}; discard with \`troupe run --reuse-pid=${j.pid} --discard\`` });
      continue;
    }
    if (!options.dryRun) await removeJournal(projectDir, j.pid);
    removed.push(j);
  }
  return { removed, kept };
}

/** Remove run PID's journal, its lock and what a cut write left. */
async function removeJournal(projectDir: string, pid: number): Promise<void> {
  const base = join(projectDir, reuseFileName(pid));
  // The journal before its lock: a lock without a journal is still found and removed.
  await rm(`${base}.tmp`, { force: true });
  await rm(base, { force: true });
  await rm(`${base}.lock.takeover`, { recursive: true, force: true });
  await rm(`${base}.lock`, { force: true });
}

/** How gc and the next run say it. */
export function describeSweep(s: JournalSweep, dryRun = false): string[] {
  return [
    ...s.removed.map(
      (j) => `${dryRun ? "would remove" : "removed"} reuse journal ${j.name}: the troupe process ${j.pid} that wrote it is gone`,
    ),
    ...s.kept.map((k) => `kept reuse journal ${k.journal.name} of the gone troupe process ${k.journal.pid}: ${k.why}`),
  ];
}

/**
 * For `troupe gc` and `troupe lab gc`: sweep the journals of the project
 * around `cwd` (none when there is no project there), where the hosts of
 * backends of the `goneTypes` are gone (gc has just collected them) and
 * `local` ones never outlive their run. Returns what to say.
 */
export async function sweepProjectJournals(cwd: string, goneTypes: ReadonlySet<string>, dryRun = false): Promise<string[]> {
  const [{ findProjectFile }, { loadProject }] = await Promise.all([import("../../config/find.js"), import("../../config/index.js")]);
  let file: string;
  try {
    file = await findProjectFile(cwd);
  } catch {
    return [];
  }
  let types: Map<string, string>;
  try {
    const project = await loadProject({ cwd, file, onWarning: () => undefined });
    types = new Map(project.backends.map((b) => [b.name, b.type]));
  } catch (e) {
    return [`skipped the reuse journals of ${file}: ${(e as Error).message.split("\n")[0] ?? ""}`];
  }
  const gone = (backend: string): boolean => {
    const type = types.get(backend);
    return type !== undefined && (type === "local" || goneTypes.has(type));
  };
  return describeSweep(await sweepJournals(dirname(file), gone, { dryRun }), dryRun);
}
