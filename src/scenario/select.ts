// Which hosts a stage runs on: regular expressions over host names. A host
// is selected when its whole name matches one of them (the patterns are
// anchored: `node-1` does not select node-10); the first pattern that
// matches gives the captures templates see as `re`: `re[0]` is the whole
// name, `re[1]` the first group, and named groups are also `re.NAME`.
// Hosts keep the order they were declared in. Pure.

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

/** Compile one pattern, anchored at both ends. */
export function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, "u");
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
export function selectHosts<H extends { readonly name: string }>(hosts: readonly H[], patterns: readonly string[]): Selected<H>[] {
  const regexps = patterns.map(compilePattern);
  const out: Selected<H>[] = [];
  for (const host of hosts) {
    for (const re of regexps) {
      const m = re.exec(host.name);
      if (m) {
        out.push({ host, re: captures(m) });
        break;
      }
    }
  }
  return out;
}
