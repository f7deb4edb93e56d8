// POSIX regular expressions (GNU flavour, as GNU tar's --transform reads
// them) translated to JavaScript RegExp source.
//
// Basic (BRE, the default) and extended (ERE, the `x` flag) syntax are both
// understood, with GNU's extensions: `\+ \? \|` in BRE, `\w \W \s \S \b \B`,
// `\< \>` word edges, `` \` `` and `\'` buffer edges, back-references `\1`..`\9`,
// and bracket expressions with `[:class:]` names.
//
// One difference cannot be translated: POSIX picks the leftmost-LONGEST match
// among alternatives, JavaScript the leftmost-first. `s/a\|ab/X/` turns "ab"
// into "Xb" here where GNU would give "X". Put longer alternatives first.

export class RegexSyntaxError extends Error {}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: "a-zA-Z",
  digit: "0-9",
  alnum: "a-zA-Z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: " \\t\\n\\r\\f\\v",
  blank: " \\t",
  punct: "!-\\/:-@\\[-`{-~",
  print: " -~",
  graph: "!-~",
  cntrl: "\\x00-\\x1f\\x7f",
  xdigit: "0-9A-Fa-f",
};

/** Escape one literal character for use in JS RegExp source (unicode mode). */
function lit(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** Escape one literal character inside a JS character class (unicode mode). */
function classLit(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * Parse a bracket expression starting at `src[start] === "["`.
 * Returns the JS class and the index just past the closing `]`.
 */
function bracket(src: string, start: number): { js: string; end: number } {
  let i = start + 1;
  let negate = false;
  if (src[i] === "^") {
    negate = true;
    i++;
  }
  const parts: string[] = [];
  let first = true;
  for (;;) {
    if (i >= src.length) throw new RegexSyntaxError("unterminated [ bracket expression");
    const ch = src[i]!;
    if (ch === "]" && !first) {
      i++;
      break;
    }
    first = false;
    if (ch === "[" && (src[i + 1] === ":" || src[i + 1] === "=" || src[i + 1] === ".")) {
      const kind = src[i + 1]!;
      const close = src.indexOf(`${kind}]`, i + 2);
      if (close < 0) throw new RegexSyntaxError(`unterminated [${kind} in bracket expression`);
      const name = src.slice(i + 2, close);
      if (kind === ":") {
        const cls = POSIX_CLASSES[name];
        if (cls === undefined) throw new RegexSyntaxError(`unknown character class [:${name}:]`);
        parts.push(cls);
      } else {
        // Equivalence classes and collating symbols: the C locale has only single characters.
        for (const c of name) parts.push(classLit(c));
      }
      i = close + 2;
      continue;
    }
    // A range a-z (a '-' first or last is literal). Backslash is literal in POSIX brackets.
    if (src[i + 1] === "-" && src[i + 2] !== undefined && src[i + 2] !== "]") {
      const hi = src[i + 2]!;
      if (hi < ch) throw new RegexSyntaxError(`invalid range ${ch}-${hi}`);
      parts.push(`${classLit(ch)}-${classLit(hi)}`);
      i += 3;
      continue;
    }
    parts.push(classLit(ch));
    i++;
  }
  return { js: `[${negate ? "^" : ""}${parts.join("")}]`, end: i };
}

/** Read `m`, `m,`, `m,n` up to the closing brace; null if this is not an interval. */
function interval(src: string, i: number, close: string): { js: string; end: number } | null {
  const m = /^(\d+)(,(\d*))?/.exec(src.slice(i));
  if (!m) return null;
  const after = i + m[0].length;
  if (!src.startsWith(close, after)) return null;
  const lo = Number(m[1]);
  const hi = m[3] === undefined || m[3] === "" ? undefined : Number(m[3]);
  if (hi !== undefined && hi < lo) throw new RegexSyntaxError(`invalid interval {${m[0]}}`);
  return { js: `{${m[0]}}`, end: after + close.length };
}

/**
 * Translate a POSIX regular expression to JS RegExp source for the `u` and `s` flags.
 * `extended` selects ERE syntax (GNU tar's `x` flag); otherwise BRE.
 * Returns the source and the number of capture groups.
 */
export function posixToJs(src: string, extended: boolean): { source: string; groups: number } {
  let out = "";
  let groups = 0;
  let depth = 0;
  // Where a `*` (or ERE `+ ? {`) would be literal: at the start, after a group open or alternation.
  let atStart = true;
  let i = 0;
  const emit = (s: string, start = false): void => {
    out += s;
    atStart = start;
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === "\\") {
      const n = src[i + 1];
      if (n === undefined) throw new RegexSyntaxError("trailing backslash");
      i += 2;
      if (!extended && n === "(") {
        groups++;
        depth++;
        emit("(", true);
      } else if (!extended && n === ")") {
        if (depth === 0) throw new RegexSyntaxError("unmatched \\)");
        depth--;
        emit(")");
      } else if (!extended && n === "|") {
        emit("|", true);
      } else if (!extended && n === "{") {
        if (atStart) throw new RegexSyntaxError("invalid preceding regular expression for \\{");
        const iv = interval(src, i, "\\}");
        if (!iv) throw new RegexSyntaxError("invalid \\{ interval");
        emit(iv.js);
        i = iv.end;
      } else if (!extended && (n === "+" || n === "?")) {
        emit(atStart ? lit(n) : n);
      } else if (n >= "1" && n <= "9") {
        if (Number(n) > groups) throw new RegexSyntaxError(`invalid back reference \\${n}`);
        emit(`\\${n}`);
      } else if ("wWsSbB".includes(n)) {
        emit(`\\${n}`);
      } else if (n === "<") {
        emit("\\b(?=\\w)");
      } else if (n === ">") {
        emit("\\b(?<=\\w)");
      } else if (n === "`") {
        emit("^", true);
      } else if (n === "'") {
        emit("$");
      } else if (n === "n") {
        emit("\\n");
      } else if (n === "t") {
        emit("\\t");
      } else {
        emit(lit(n));
      }
      continue;
    }
    i++;
    switch (ch) {
      case "[": {
        const b = bracket(src, i - 1);
        emit(b.js);
        i = b.end;
        break;
      }
      case ".":
        emit(".");
        break;
      case "*":
        emit(atStart ? "\\*" : "*");
        break;
      case "^":
        // In BRE, an anchor only at the start of the expression or of a group/alternative.
        if (extended || atStart) emit("^", true);
        else emit("\\^");
        break;
      case "$": {
        const rest = src.slice(i);
        const atEnd = rest === "" || (!extended && (rest.startsWith("\\)") || rest.startsWith("\\|")));
        if (extended || atEnd) emit("$");
        else emit("\\$");
        break;
      }
      case "(":
        if (extended) {
          groups++;
          depth++;
          emit("(", true);
        } else emit("\\(");
        break;
      case ")":
        if (extended) {
          if (depth === 0) throw new RegexSyntaxError("unmatched )");
          depth--;
          emit(")");
        } else emit("\\)");
        break;
      case "|":
        emit(extended ? "|" : "\\|", extended);
        break;
      case "+":
      case "?":
        emit(extended && !atStart ? ch : lit(ch));
        break;
      case "{": {
        const iv = extended && !atStart ? interval(src, i, "}") : null;
        if (iv) {
          emit(iv.js);
          i = iv.end;
        } else emit("\\{");
        break;
      }
      default:
        emit(lit(ch));
    }
  }
  if (depth !== 0) throw new RegexSyntaxError(extended ? "unmatched (" : "unmatched \\(");
  return { source: out, groups };
}
