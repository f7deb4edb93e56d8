// `--failed`: the jobs that did not pass in the project's last run (pytest's
// `--lf`), read from `.troupe/latest/run.json`.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Job } from "../model/job.js";
import { TroupeError } from "../util/errors.js";

interface LastRun {
  readonly runId?: string;
  readonly jobs?: readonly { readonly name?: string; readonly status?: string }[];
}

/** The jobs of `jobs` that failed or were aborted in the last run (`latest`: its link); an error when there is nothing to rerun. */
export async function lastFailed(latest: string, jobs: readonly Job[]): Promise<Job[]> {
  const file = join(latest, "run.json");
  let last: LastRun;
  try {
    last = JSON.parse(await readFile(file, "utf8")) as LastRun;
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? "there is no earlier run" : `cannot read ${file}: ${(err as Error).message}`;
    throw new TroupeError("E_USAGE", `--failed reruns the last run's failed jobs, but ${why}`);
  }
  const failed = new Set((last.jobs ?? []).filter((j) => j.status === "failed" || j.status === "aborted").map((j) => j.name));
  if (failed.size === 0) throw new TroupeError("E_USAGE", `--failed: nothing failed in the last run (${last.runId ?? file})`);
  const picked = jobs.filter((j) => failed.has(j.name));
  if (picked.length === 0) {
    throw new TroupeError("E_FILTER", `--failed: none of the ${failed.size} jobs that failed in run ${last.runId ?? "?"} is selected now`);
  }
  return picked;
}
