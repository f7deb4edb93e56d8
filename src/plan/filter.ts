// Job filters, exactly as Spread's NewFilter (spread/project.go) reads its
// command-line arguments. A job passes when any expression matches its name
// `backend:system:suite/task:variant[#sample]`:
//
// - each expression matches whole name components: `lxd`, `ubuntu-16.04`,
//   `mysuite/`, `mysuite/task-one`, `variant-a`;
// - `...` is a wildcard inside one component: `ubuntu-...`, `mysu...one`;
// - a task may be matched partially with a slash as prefix or suffix:
//   `/task-one`, `mysuite/`;
// - `a:b` matches components a and b in that order, not necessarily
//   consecutive: `lxd:variant-a`; a leading or trailing `:` requires some
//   component before or after;
// - `#N` or `#N..M` at the end selects samples N to M;
// - a single `.` is a literal dot; any other run of dots, `::`, or `#`
//   elsewhere is an error. Other characters pass to the regular expression
//   as they do in Spread.

import { TroupeError } from "../util/errors.js";

export interface FilterExpression {
  /** The argument as the user wrote it. */
  readonly source: string;
  readonly regexp: RegExp;
  /** 0 when the expression selects every sample. */
  readonly firstSample: number;
  readonly lastSample: number;
}

export interface Filter {
  readonly expressions: readonly FilterExpression[];
  /** True when the job name (and sample) passes; an empty filter passes everything. */
  pass(job: { readonly name: string; readonly sample: number }): boolean;
}

const ALLOWED =
  'a filter is a name component (lxd, ubuntu-16.04, mysuite/, variant-a), "..." as a wildcard inside a component, ' +
  '"/task" or "suite/" for part of a task name, ":" between components in order, and "#N" or "#N..M" at the end for samples';

const DOTS = /\.+|:+|#/g;
const SAMPLE = /^(.*)#(\d+)(?:\.\.(\d+))?$/;
/** Regular-expression syntax RE2 (Go) rejects but JavaScript accepts; refused so a filter means the same in both. */
const NOT_RE2 = /\(\?[=!]|\(\?<[=!]|\\[1-9]|\\k</;

function filterError(arg: string, why: string): TroupeError {
  return new TroupeError("E_FILTER", { message: `invalid filter ${JSON.stringify(arg)}: ${why}; ${ALLOWED}` });
}

export function parseFilterExpression(arg: string): FilterExpression {
  let re = arg;
  let firstSample = 0;
  let lastSample = 0;
  const m = SAMPLE.exec(re);
  if (m) {
    re = m[1]!;
    firstSample = Number.parseInt(m[2]!, 10);
    if (m[3] !== undefined) lastSample = Number.parseInt(m[3], 10);
    if (firstSample > 0 && lastSample === 0) lastSample = firstSample;
    if (firstSample < 1 || lastSample < firstSample) {
      throw filterError(arg, "the sample range must be #N or #N..M with 1 <= N <= M");
    }
  }
  let bad: string | undefined;
  re = re.replace(DOTS, (s) => {
    switch (s) {
      case ".":
        return "\\.";
      case "...":
        return "[^:]*";
      case ":":
        return "(:.+)*:(.+:)*";
    }
    bad ??= s;
    return s;
  });
  if (bad !== undefined) {
    throw filterError(arg, `${JSON.stringify(bad)} is not allowed there`);
  }
  if (re.startsWith("(:.+)*:") || re.startsWith("/")) re = ".+" + re;
  if (re.endsWith(":(.+:)*") || re.endsWith("/")) re = re + ".+";
  const source = "(?:^|:)" + re + "(?:$|[:#])";
  if (NOT_RE2.test(source)) throw filterError(arg, "not a valid expression");
  let regexp: RegExp;
  try {
    regexp = new RegExp(source);
  } catch {
    throw filterError(arg, "not a valid expression");
  }
  return { source: arg, regexp, firstSample, lastSample };
}

/** Spread's NewFilter: one expression per argument. Throws E_FILTER on a bad one. */
export function parseFilters(args: readonly string[]): Filter {
  const expressions = args.map(parseFilterExpression);
  return {
    expressions,
    pass(job) {
      if (expressions.length === 0) return true;
      for (const exp of expressions) {
        if (exp.firstSample > 0 && (job.sample < exp.firstSample || job.sample > exp.lastSample)) continue;
        if (exp.regexp.test(job.name)) return true;
      }
      return false;
    },
  };
}
