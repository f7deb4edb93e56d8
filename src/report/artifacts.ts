// Where `--artifacts DIR` puts a job's artifacts, for the fetcher and for the
// report's links to them: one rule. A multi-host job's hosts each get a
// folder of their own under the job's, named for the host's name in the job
// (`server`, `client-1`): they fetch the same paths, and would overwrite each
// other in one folder.

import { join } from "node:path";
import { artifactPath, portableSegment } from "../util/portable-name.js";

/**
 * `spread`: Spread's folders (`backend:system:suite/task:variant`), which a
 * Spread project's own checks read (Spread's tests/artifacts does);
 * `portable`: names CI uploaders accept (util/portable-name.ts), for troupe
 * projects.
 */
export type ArtifactLayout = "spread" | "portable";

export interface ArtifactsDirOptions {
  /** Portable unless said (troupe projects). */
  readonly layout?: ArtifactLayout;
  /** A multi-host job's host, by its name in the job: that host's folder in the job's. */
  readonly as?: string | undefined;
}

/** The job's folder, or with `as` one of its hosts' folders. */
export function artifactsDirOf(root: string, jobName: string, { layout = "portable", as }: ArtifactsDirOptions = {}): string {
  const dir = join(root, layout === "spread" ? jobName : artifactPath(jobName));
  return as === undefined ? dir : join(dir, portableSegment(as));
}
