// Checks on `systems:`, `backends:` and `variants:` lists. Items are kept as
// written (`+x`, `-x` included); planning interprets them.

import type { LNode, YamlPath } from "./yaml-positions.js";
import { locate } from "./yaml-positions.js";
import type { Problems } from "./problems.js";

export interface ListPlace {
  readonly file: string;
  readonly root: LNode | undefined;
  /** The path of the list itself, e.g. ["suites", "tests/", "systems"]. */
  readonly path: YamlPath;
}

/**
 * Spread refuses a list that mixes plain names with `+x`/`-x` changes: a list
 * either replaces what it inherits or changes it. `systemRule`, when given,
 * is the pattern each system name (without its +/-) must match, and what to say when one does not.
 */
export function checkDeltaList(
  what: "systems" | "backends" | "variants",
  items: readonly string[] | undefined,
  place: ListPlace,
  problems: Problems,
  systemRule?: { readonly rule: RegExp; readonly help: string },
): void {
  if (!items) return;
  let delta = 0;
  let plain = 0;
  let reported = false;
  items.forEach((item, i) => {
    const isDelta = item.startsWith("+") || item.startsWith("-");
    if (isDelta) delta++;
    else plain++;
    const at = locate(place.root, [...place.path, i], place.file);
    if (delta > 0 && plain > 0 && !reported) {
      reported = true;
      problems.add(
        "E_PROJECT",
        at.pos,
        [...place.path, i],
        `${what} mixes plain names with +/- changes; write either a list that replaces the inherited one ` +
          `(a, b) or only changes to it (+a, -b)`,
      );
    }
    const name = isDelta ? item.slice(1) : item;
    if (systemRule && !systemRule.rule.test(name)) {
      problems.add("E_SCHEMA", at.pos, [...place.path, i], `invalid system name '${name}'; ${systemRule.help}`);
    }
  });
}
