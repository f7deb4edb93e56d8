// Where `--artifacts DIR` puts a job's artifacts, for the fetcher and for the
// report's links to them: one rule.

import { join } from "node:path";
import { artifactPath } from "../util/portable-name.js";

export function artifactsDirOf(root: string, jobName: string): string {
  return join(root, artifactPath(jobName));
}
