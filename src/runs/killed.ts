// A run killed outright (kill -9, a crash, a power cut) never wrote its end:
// its run.json (or scenario.json) still says `running`. The next look at the
// results folder (the next run, `troupe runs`) finds it, sees its process is
// gone (pid, start time and boot, see process.ts) and writes `killed` in
// its file, so that every later reader is told.

import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../report/atomic.js";
import { SCENARIO_JSON } from "../report/scenario-json.js";
import { readRun, runIds, type RunRecord } from "./records.js";

/** Write `"status": "killed"` into each killed run's file; the ids of those it could mark. */
export async function markKilled(records: readonly RunRecord[]): Promise<string[]> {
  const marked: string[] = [];
  for (const r of records) {
    if (!r.killed || !r.file) continue;
    try {
      const data = JSON.parse(await readFile(r.file, "utf8")) as Record<string, unknown>;
      if (data["status"] !== "running") continue;
      await writeFileAtomic(r.file, JSON.stringify({ ...data, status: "killed" }, null, 2) + "\n");
      marked.push(r.id);
    } catch {
      // not ours to write (read-only, gone): it is still shown as killed
    }
  }
  return marked;
}

/** Whether a results file's first bytes say `running` (read before the whole file: most runs ended). */
async function saysRunning(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, "r");
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return /"status": "running"/.test(buf.subarray(0, bytesRead).toString("utf8"));
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/** Find the runs of `runsDir` that were killed and mark them; their ids. */
export async function noteKilledRuns(runsDir: string): Promise<string[]> {
  const suspects: string[] = [];
  for (const id of await runIds(runsDir)) {
    const dir = join(runsDir, id);
    if ((await saysRunning(join(dir, "run.json"))) || (await saysRunning(join(dir, SCENARIO_JSON)))) suspects.push(id);
  }
  const records = await Promise.all(suspects.map((id) => readRun(runsDir, id)));
  return markKilled(records);
}

/** What the next run says about a killed one. */
export function killedNotice(id: string): string {
  return `run ${id} was killed before it ended (its process is gone): its results now say "killed"`;
}
