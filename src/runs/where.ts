// Where a project's runs are: `--results-dir DIR` when given, else the
// `.troupe/runs` of the nearest folder upwards from here (or -C DIR) that has
// one: where `troupe run` and `troupe play` keep them.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export function findRunsDir(o: { resultsDir?: string; from?: string }): string {
  if (o.resultsDir) return resolve(o.resultsDir);
  const start = resolve(o.from ?? process.cwd());
  for (let dir = start; ; dir = dirname(dir)) {
    const runs = join(dir, ".troupe", "runs");
    if (existsSync(runs)) return runs;
    if (dirname(dir) === dir) return join(start, ".troupe", "runs");
  }
}
