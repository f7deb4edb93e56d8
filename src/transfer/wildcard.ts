// Tar-style wildcards, as GNU tar matches `--exclude` patterns against the
// names it archives (and so as Spread's `exclude:` behaves):
//
// - `*` and `?` match any characters, `/` and a leading `.` included
//   (--wildcards-match-slash); `[...]` is a bracket expression (`!` or `^`
//   negates); `\` makes the next character literal;
// - unanchored: the pattern may match the whole name or any part of it that
//   starts after a `/` (`*.o` and `b.o` both exclude `src/sub/b.o`);
// - leading directories: a pattern that matches a directory also matches
//   everything below it (`src/sub` excludes `src/sub/b.o`);
// - case-sensitive; names have no `./` prefix and no trailing `/`.

/** Translate a glob pattern to RegExp source. `*` crosses `/` only if `matchSlash`. */
export function globToRegExpSource(pattern: string, matchSlash: boolean): string {
  const any = matchSlash ? "[^]" : "[^/]";
  let out = "";
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    i++;
    if (ch === "\\") {
      const n = pattern[i];
      if (n === undefined) out += "\\\\";
      else {
        out += escapeChar(n);
        i++;
      }
    } else if (ch === "*") {
      out += `${any}*`;
    } else if (ch === "?") {
      out += any;
    } else if (ch === "[") {
      const cls = bracketClass(pattern, i, matchSlash);
      if (cls) {
        out += cls.source;
        i = cls.end;
      } else out += "\\[";
    } else out += escapeChar(ch);
  }
  return out;
}

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function escapeClassChar(ch: string): string {
  return /[\\^[\]-]/.test(ch) ? `\\${ch}` : ch;
}

/** A bracket expression opened just before `start`; null when it is not closed (then `[` is literal). */
function bracketClass(p: string, start: number, matchSlash: boolean): { source: string; end: number } | null {
  let i = start;
  let negate = false;
  if (p[i] === "!" || p[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let first = true;
  while (i < p.length) {
    const ch = p[i]!;
    if (ch === "]" && !first) {
      const slash = !matchSlash && negate ? "/" : "";
      return { source: `[${negate ? "^" : ""}${slash}${body}]`, end: i + 1 };
    }
    first = false;
    if (ch === "[" && p[i + 1] === ":") {
      const close = p.indexOf(":]", i + 2);
      const cls = close < 0 ? undefined : CLASSES[p.slice(i + 2, close)];
      if (cls !== undefined) {
        body += cls;
        i = close + 2;
        continue;
      }
    }
    let c = ch;
    if (c === "\\" && i + 1 < p.length) {
      i++;
      c = p[i]!;
    }
    if (p[i + 1] === "-" && p[i + 2] !== undefined && p[i + 2] !== "]") {
      let hi = p[i + 2]!;
      let skip = 3;
      if (hi === "\\" && p[i + 3] !== undefined) {
        hi = p[i + 3]!;
        skip = 4;
      }
      if (hi >= c) body += `${escapeClassChar(c)}-${escapeClassChar(hi)}`;
      i += skip;
      continue;
    }
    body += escapeClassChar(c);
    i++;
  }
  return null;
}

const CLASSES: Readonly<Record<string, string>> = {
  alpha: "a-zA-Z",
  digit: "0-9",
  alnum: "a-zA-Z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: " \\t\\n\\r\\f\\v",
  blank: " \\t",
  punct: "!-\\/:-@\\[-`{-~",
  xdigit: "0-9A-Fa-f",
};

/** A predicate telling whether a relative name is excluded by any of `patterns`. */
export function compileExcludes(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((p) => `(?:${globToRegExpSource(p, true)})`).join("|");
  // Unanchored (any suffix after a '/') and leading-directory matching.
  const re = new RegExp(`^(?:[^]*/)?(?:${alternatives})(?:/[^]*)?$`, "u");
  return (name) => re.test(name);
}
