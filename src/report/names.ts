// Job names and the file names derived from them.
//
// A job is named `backend:system:suite/task[:variant][#sample]`, as Spread
// names it (the task name includes its suite: `tests/main/hello`).
//
// Folder names in the run directory (`jobDirName`): every `/` becomes `-`,
// every `:` becomes `_`, and every other character outside `[A-Za-z0-9._-]`
// becomes `_` as well (`#` of a sample included), so that
// `local:debian-12:tests/main/hello:v1#2` is stored as
// `local_debian-12_tests-main-hello_v1_2`. A leading `.` is dropped, and names
// longer than 120 characters are cut and given an 8-digit hash of the full
// name. Two jobs whose names map to the same folder get `.2`, `.3`, ... in the
// order they start (see `UniqueNames`). run.json records each job's folder.

import { createHash } from "node:crypto";

export interface JobNameParts {
  readonly backend: string;
  readonly system: string;
  /** With its trailing slash, as Spread writes it: `tests/main/`. */
  readonly suite: string;
  /** The task's full name, suite included: `tests/main/hello`. */
  readonly task: string;
  /** "" when there is none. */
  readonly variant: string;
  /** 1 unless the name ends with `#N`. */
  readonly sample: number;
}

/** Split a job name into its parts; tolerant of names that do not follow the pattern. */
export function parseJobName(name: string): JobNameParts {
  let rest = name;
  let sample = 1;
  const m = /#(\d+)$/.exec(rest);
  if (m) {
    sample = Number(m[1]);
    rest = rest.slice(0, m.index);
  }
  const parts = rest.split(":");
  const backend = parts[0] ?? "";
  const system = parts[1] ?? "";
  const task = parts[2] ?? "";
  const variant = parts.slice(3).join(":");
  const slash = task.lastIndexOf("/");
  const suite = slash >= 0 ? task.slice(0, slash + 1) : "";
  return { backend, system, suite, task, variant, sample };
}

/** Spread's summary name for a job: the job name without its `#sample`. */
export function summaryName(jobName: string): string {
  return jobName.replace(/#\d+$/, "");
}

const MAX_NAME = 120;

/** A file-system-safe name for a job name or context string (see the header). */
export function safeName(name: string): string {
  let s = name.replace(/\//g, "-").replace(/[^A-Za-z0-9._-]/g, "_");
  s = s.replace(/^\.+/, "");
  if (s === "") s = "_";
  if (s.length > MAX_NAME) {
    const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
    s = `${s.slice(0, MAX_NAME - 9)}-${hash}`;
  }
  return s;
}

/** Hands out unique names: the second `x` becomes `x.2`, then `x.3`. */
export class UniqueNames {
  private readonly used = new Set<string>();

  take(name: string): string {
    let candidate = name;
    for (let n = 2; this.used.has(candidate); n++) candidate = `${name}.${n}`;
    this.used.add(candidate);
    return candidate;
  }
}
