// Where a project's runs are: `--results-dir DIR` when given, else the
// `.troupe/runs` of the nearest folder upwards from here (or -C DIR) that has
// one: where `troupe run` and `troupe play` keep them. The newest run is at
// `.troupe/latest`, or `DIR/latest` for runs kept in a folder of their own.

import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** The folder of a project's runs: `--results-dir` (relative to the current directory), else `<project>/.troupe/runs`. */
export function runsDirOf(projectDir: string, resultsDir?: string): string {
  return resultsDir ? resolve(resultsDir) : join(projectDir, ".troupe", "runs");
}

/** The `latest` link of a folder of runs: `.troupe/latest` beside `.troupe/runs`, else inside the folder. */
export function latestLinkOf(runsDir: string): string {
  return basename(runsDir) === "runs" && basename(dirname(runsDir)) === ".troupe"
    ? join(dirname(runsDir), "latest")
    : join(runsDir, "latest");
}

export function findRunsDir(o: { resultsDir?: string; from?: string }): string {
  if (o.resultsDir) return resolve(o.resultsDir);
  const start = resolve(o.from ?? process.cwd());
  for (let dir = start; ; dir = dirname(dir)) {
    const runs = join(dir, ".troupe", "runs");
    if (existsSync(runs)) return runs;
    if (dirname(dir) === dir) return join(start, ".troupe", "runs");
  }
}
