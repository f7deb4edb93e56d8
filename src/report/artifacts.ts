// Where `--artifacts DIR` puts a job's artifacts, for the fetcher and for the
// report's links to them: one rule. A multi-host job's hosts each get a
// folder of their own under the job's, named for the host's name in the job
// (`server`, `client-1`): they fetch the same paths, and would overwrite each
// other in one folder.

import { join } from "node:path";
import { artifactPath, portableSegment } from "../util/portable-name.js";

/** The job's folder; with `as` (a multi-host job's host, by its name in the job), that host's folder in it. */
export function artifactsDirOf(root: string, jobName: string, as?: string): string {
  const dir = join(root, artifactPath(jobName));
  return as === undefined ? dir : join(dir, portableSegment(as));
}
