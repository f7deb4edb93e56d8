// Where in the user's files a job or a hook is written: the task's
// task.yaml, or the key of a project, backend or suite hook in the project
// file. CI annotations (reporters/github.ts) point there. Built from the
// planned jobs; pure.

import type { Job } from "../model/job.js";
import type { SourcePos } from "../model/position.js";
import type { Located } from "../model/project.js";
import type { Level, Phase } from "./events.js";

export interface SourceRef {
  readonly level: Level;
  readonly phase: Phase;
  /** The job name (task level) or the context (`backend:system`, `backend:system:suite/`). */
  readonly context: string;
}

export type SourceLocator = (ref: SourceRef) => SourcePos | undefined;

/** The field of an entity that holds `phase`'s script, as written (`prepare`, `restore`, ...). */
function at(entity: Located, phase: Phase): SourcePos {
  return entity.where[phase] ?? entity.pos;
}

export function sourceLocator(jobs: readonly Job[]): SourceLocator {
  const byJob = new Map<string, Job>();
  const byContext = new Map<string, Job>();
  for (const j of jobs) {
    byJob.set(j.name, j);
    byContext.set(`${j.backend.name}:${j.system.name}`, j);
    byContext.set(`${j.backend.name}:${j.system.name}:${j.suite.name}`, j);
  }
  return (ref) => {
    if (ref.level === "task") {
      const j = byJob.get(ref.context) ?? byJob.get(ref.context.replace(/#\d+$/, ""));
      return j ? at(j.task, ref.phase) : undefined;
    }
    const j = byContext.get(ref.context);
    if (!j) return undefined;
    switch (ref.level) {
      case "suite":
        return at(j.suite, ref.phase);
      case "backend":
        return at(j.backend, ref.phase);
      case "project":
        return at(j.project, ref.phase);
    }
  };
}
