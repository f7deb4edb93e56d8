// `environment:` maps, read from the positioned tree so that order, positions,
// duplicate keys and the text of each value are exactly as written.

import type { EnvEntry } from "../model/project.js";
import type { Problem } from "../util/errors.js";
import { VALID_VARNAME } from "./names.js";
import { formatPath, type LNode, type YamlPath } from "./yaml-positions.js";

/**
 * The entries of the environment map `node` (at `path`). Values are the text
 * yaml.v2 gives Spread: `1.10` stays `1.10`, `yes` stays `yes`, empty is "".
 * Non-map nodes and non-scalar values are left to the schema to report.
 */
export function readEnvironment(node: LNode | undefined, path: YamlPath, report: (problem: Problem) => void): EnvEntry[] {
  if (!node || node.kind !== "map") return [];
  const entries: EnvEntry[] = [];
  const seen = new Map<string, EnvEntry>();
  for (const e of node.entries) {
    const keyPath = formatPath([...path, e.key]);
    if (!VALID_VARNAME.test(e.key)) {
      report({
        pos: e.keyPos,
        path: keyPath,
        message:
          `invalid variable name '${e.key}'; names are letters, digits and '_', not starting with a digit, ` +
          "optionally followed by /variant1,variant2 (e.g. SUBJECT/foo,bar)",
      });
      continue;
    }
    const first = seen.get(e.key);
    if (first) {
      report({
        pos: e.keyPos,
        path: keyPath,
        message: `variable '${e.key}' is defined twice (first at line ${first.pos.line}); keep only one`,
      });
      continue;
    }
    if (e.value.kind !== "scalar") continue;
    const entry: EnvEntry = { key: e.key, value: e.value.text, pos: e.keyPos };
    seen.set(e.key, entry);
    entries.push(entry);
  }
  return entries;
}
