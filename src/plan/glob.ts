// Go's filepath.Match on Unix, which Spread uses for the names in `systems:`,
// `backends:` and `variants:` lists: `*` is any run of characters but `/`,
// `?` one character but `/`, `[a-z]` / `[^a-z]` a class, `\x` a literal x.
// The whole name must match. A malformed pattern is an error (Go's
// ErrBadPattern), reported by the caller with its position.

export class BadPatternError extends Error {
  constructor(readonly pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
    this.name = "BadPatternError";
  }
}

const cache = new Map<string, RegExp>();

/** True when `pattern` uses any glob syntax (so it names a set, not one item). */
export function isGlob(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

export function globMatch(pattern: string, name: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    re = compileGlob(pattern);
    cache.set(pattern, re);
  }
  return re.test(name);
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? "\\" + c : c;
}

/** Translate a Go glob into an anchored RegExp, rejecting what Go rejects. */
export function compileGlob(pattern: string): RegExp {
  let out = "";
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i]!;
    if (c === "*") {
      out += "[^/]*";
      i++;
    } else if (c === "?") {
      out += "[^/]";
      i++;
    } else if (c === "\\") {
      if (i + 1 >= n) throw new BadPatternError(pattern);
      out += escapeChar(pattern[i + 1]!);
      i += 2;
    } else if (c === "[") {
      i++;
      let cls = "[";
      if (i < n && pattern[i] === "^") {
        cls += "^";
        i++;
      }
      let ranges = 0;
      for (;;) {
        if (i >= n) throw new BadPatternError(pattern);
        if (pattern[i] === "]" && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar(pattern, i);
        i = lo.next;
        let hi = lo;
        if (i < n && pattern[i] === "-") {
          hi = classChar(pattern, i + 1);
          i = hi.next;
          if (hi.ch < lo.ch) throw new BadPatternError(pattern);
        }
        cls += hi === lo ? escapeChar(lo.ch) : `${escapeChar(lo.ch)}-${escapeChar(hi.ch)}`;
        ranges++;
      }
      out += cls + "]";
    } else {
      out += escapeChar(c);
      i++;
    }
  }
  return new RegExp(`^${out}$`, "s");
}

/** One character of a class (Go's getEsc): `-` and `]` must be escaped, `\` escapes. */
function classChar(pattern: string, i: number): { ch: string; next: number } {
  const c = pattern[i];
  if (c === undefined || c === "-" || c === "]") throw new BadPatternError(pattern);
  if (c === "\\") {
    const e = pattern[i + 1];
    if (e === undefined) throw new BadPatternError(pattern);
    return { ch: e, next: i + 2 };
  }
  return { ch: c, next: i + 1 };
}
