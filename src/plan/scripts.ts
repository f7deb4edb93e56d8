// How Spread joins the scripts of several levels into one per-job script
// (spread/project.go, join): each non-empty script in its own `( ... )`
// subshell, separated by a blank line, so one level's `cd` or `set` does not
// leak into the next.

import type { Job } from "../model/job.js";
import type { Backend, Project, Suite, Task } from "../model/project.js";

export function joinScripts(...scripts: readonly (string | undefined)[]): string {
  const parts: string[] = [];
  for (const s of scripts) {
    if (!s) continue;
    parts.push(`(\n${s}\n)`);
  }
  return parts.join("\n\n");
}

/** The per-job scripts: `*-each` hooks wrap the task's own, outermost level first on prepare, last on restore. */
export function jobScripts(project: Project, backend: Backend, suite: Suite, task: Task): Job["scripts"] {
  return {
    prepare: joinScripts(project.prepareEach, backend.prepareEach, suite.prepareEach, task.prepare),
    execute: task.execute ?? "",
    restore: joinScripts(task.restore, suite.restoreEach, backend.restoreEach, project.restoreEach),
    debug: joinScripts(task.debug, suite.debugEach, backend.debugEach, project.debugEach),
  };
}
