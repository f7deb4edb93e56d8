// Spread's stable job order (spread/project.go, jobsByName): by name, except
// that the samples of one backend:system:task come in numeric order (`#2`
// before `#10`). Spread leaves two variants of one task with the same sample
// unordered; here they fall back to name order, which is one of the orders
// Spread can print.

import type { Job } from "../model/job.js";
import { compareBytes } from "../util/code-unit-order.js";

type Sortable = Pick<Job, "name" | "sample" | "backend" | "system" | "task">;

export function compareJobs(a: Sortable, b: Sortable): number {
  if (a.backend === b.backend && a.system === b.system && a.task === b.task && a.sample !== b.sample) {
    return a.sample - b.sample;
  }
  return compareBytes(a.name, b.name);
}

export function sortJobs<T extends Sortable>(jobs: T[]): T[] {
  return jobs.sort(compareJobs);
}
