// Spread's cascading name lists (spread/project.go, evalstr): `backends:`,
// `systems:` and `variants:` are evaluated level by level. At each level a
// list is either plain (its first item replaces what the levels above
// produced) or delta (`+x` adds, `-x` removes); never both. Every item is a
// pattern matched against the names the levels so far mention, so `-ubuntu-*`
// removes every ubuntu system, and a plain or `+` name matches itself.

import type { SourcePos } from "../model/position.js";
import { TroupeError } from "../util/errors.js";
import { BadPatternError, compileGlob, globMatch, isGlob } from "./glob.js";

/** One level's list, with what to name it in errors. */
export interface NameList {
  readonly items: readonly string[];
  /** Human name of the entity: `suite "tests/"`, `task "tests/hello"`. */
  readonly context: string;
  /** Where the list was written (or the entity, when it was derived from environment keys). */
  readonly pos?: SourcePos;
}

/**
 * Evaluate cascading lists into a set of names (unordered, like Spread's).
 * `what` is `backends`, `systems` or `variants`, for error messages.
 */
export function evalLists(what: string, lists: readonly NameList[]): Set<string> {
  const final = new Set<string>();
  lists.forEach((list, i) => {
    let delta = 0;
    let plain = 0;
    list.items.forEach((item, j) => {
      const add = item.startsWith("+");
      const remove = item.startsWith("-");
      let name = item;
      if (add || remove) {
        name = item.slice(1);
        if (i === 0) throw listError(list, `${list.context} specifies ${what} in delta format`);
        delta++;
      } else {
        plain++;
      }
      if (delta > 0 && plain > 0) {
        throw listError(
          list,
          `${list.context} specifies ${what} both in delta and plain format (${JSON.stringify(item)}); ` +
            `use either only names (replace) or only +name/-name (add/remove)`,
        );
      }
      const found = matchNames(what, list, name, lists.slice(0, i + 1));
      if (add) {
        for (const m of found) final.add(m);
        return;
      }
      if (remove) {
        for (const m of found) final.delete(m);
        return;
      }
      if (j === 0) final.clear();
      for (const m of found) final.add(m);
    });
  });
  return final;
}

/**
 * The names mentioned by `lists` that `pattern` matches. Spread also lets a
 * pattern match other patterns literally (so `variants: ["*"]` would make a
 * variant named `*`); here items that are themselves patterns are never
 * taken as names.
 */
function matchNames(what: string, owner: NameList, pattern: string, lists: readonly NameList[]): string[] {
  try {
    compileGlob(pattern);
  } catch (e) {
    if (e instanceof BadPatternError) {
      throw listError(owner, `${owner.context} has an invalid pattern in ${what}: ${JSON.stringify(pattern)}`);
    }
    throw e;
  }
  const out: string[] = [];
  for (const list of lists) {
    for (const item of list.items) {
      const name = item.startsWith("+") || item.startsWith("-") ? item.slice(1) : item;
      if (isGlob(name)) continue;
      if (globMatch(pattern, name)) out.push(name);
    }
  }
  return out;
}

function listError(list: NameList, message: string): TroupeError {
  return new TroupeError("E_PROJECT", list.pos ? { pos: list.pos, message } : { message });
}
