// Where `--artifacts DIR` puts a job's artifacts, for the fetcher and for the
// report's links to them: one rule.

import { join } from "node:path";
import { artifactPath } from "../util/portable-name.js";

/**
 * `spread`: Spread's folders (`backend:system:suite/task:variant`), which a
 * Spread project's own checks read (Spread's tests/artifacts does);
 * `portable`: names CI uploaders accept (util/portable-name.ts), for troupe
 * projects.
 */
export type ArtifactLayout = "spread" | "portable";

export function artifactsDirOf(root: string, jobName: string, layout: ArtifactLayout = "portable"): string {
  return join(root, layout === "spread" ? jobName : artifactPath(jobName));
}
