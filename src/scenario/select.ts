// Which hosts a stage runs on: regular expressions over host names. A host
// is selected when its whole name matches one of them (the patterns are
// anchored: `node-1` does not select node-10); the first pattern that
// matches gives the captures templates see as `re`: `re[0]` is the whole
// name, `re[1]` the first group, and named groups are also `re.NAME`.
// Hosts keep the order they were declared in.
//
// Octogram recipes match as Octogram does (`partial`): a host is selected
// when the pattern matches anywhere in its name (`node` selects node-10),
// and `re` is the groups of every match in the name, one after the other
// (`re[0]` the first match, `re[1]` its first group, ...). Pure.

export interface Selected<H> {
  readonly host: H;
  /** The captures: whole match first; groups that did not take part are "". */
  readonly re: Captures;
}

/** The capture list, with named groups as extra properties (`re.id`). */
export type Captures = readonly string[] & { readonly [name: string]: unknown };

export class PatternError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`with_hosts '${pattern}' is not a valid regular expression: ${reason}`);
  }
}

export type MatchMode = "whole" | "partial";

/** Compile one pattern: anchored at both ends (whole), or as written (partial, Perl syntax as Octogram). */
export function compilePattern(pattern: string, match: MatchMode = "whole"): RegExp {
  try {
    return match === "whole" ? new RegExp(`^(?:${pattern})$`, "u") : new RegExp(pattern, "g");
  } catch (e) {
    throw new PatternError(pattern, (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ""));
  }
}

/** How many capture groups a pattern has (for checking `re[N]` before running). */
export function groupCount(pattern: string): number {
  // An alternation with the empty string always matches: its match array has one slot per group.
  const m = new RegExp(`(?:${pattern})|`, "u").exec("");
  return m ? m.length - 1 : 0;
}

export function captures(m: RegExpExecArray): Captures {
  const list: string[] = Array.from(m, (g) => g ?? "");
  const named: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) named[k] = v ?? "";
  return Object.assign(list, named);
}

/** The hosts whose names match one of `patterns`, with their captures. */
export function selectHosts<H extends { readonly name: string }>(
  hosts: readonly H[],
  patterns: readonly string[],
  match: MatchMode = "whole",
): Selected<H>[] {
  const regexps = patterns.map((p) => compilePattern(p, match));
  const out: Selected<H>[] = [];
  for (const host of hosts) {
    for (const re of regexps) {
      const m = match === "whole" ? re.exec(host.name) : allMatches(re, host.name);
      if (m) {
        out.push({ host, re: captures(m) });
        break;
      }
    }
  }
  return out;
}

/** Every match of a global pattern in `name`, their groups in a row; null when none. */
function allMatches(re: RegExp, name: string): RegExpExecArray | null {
  re.lastIndex = 0;
  const all: string[] = [];
  let first: RegExpExecArray | null = null;
  for (let m = re.exec(name); m; m = re.exec(name)) {
    first ??= m;
    all.push(...Array.from(m, (g) => g ?? ""));
    if (m[0] === "") re.lastIndex++;
    if (re.lastIndex > name.length) break;
  }
  if (!first) return null;
  return Object.assign(all, { index: first.index, input: name, groups: first.groups }) as unknown as RegExpExecArray;
}
