// Spread's `rename:` entries: GNU tar `--transform` expressions,
// `s/REGEX/REPLACEMENT/FLAGS`, applied in order to each archive member's name.
//
// - Any character may stand for `/` as the delimiter; `\` + delimiter is a literal delimiter.
// - One entry may hold several expressions separated by `;`.
// - REGEX is a POSIX basic regular expression (extended with the `x` flag).
// - REPLACEMENT may use `&` (the whole match), `\1`..`\9`, and the case
//   conversions `\U \L` (until `\E`) and `\u \l` (the next character).
// - FLAGS: `g` every match, a number N the Nth match (with `g`, the Nth and
//   later), `i` ignore case, `x` extended regex; `r`/`R`, `s`/`S`, `h`/`H`
//   apply (lower case, the default) or not (upper case) to member names,
//   symbolic link targets and hard link targets.
//
// Matching follows sed: an empty match right after the previous match is
// skipped, and `N` counts matches from the start of the name. (GNU tar 1.34
// mangles names with `N` and loops forever on some empty matches; this follows
// the documented behaviour instead.)

import { posixToJs, RegexSyntaxError } from "./posix-regex.js";

type CaseMode = "none" | "upper" | "lower";

/** One piece of a replacement. */
type ReplPart =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "group"; readonly index: number }
  | { readonly kind: "case"; readonly mode: CaseMode }
  | { readonly kind: "once"; readonly mode: "upper" | "lower" };

export interface RenameRule {
  /** The expression as written, for messages. */
  readonly source: string;
  readonly regex: RegExp;
  readonly replacement: readonly ReplPart[];
  readonly global: boolean;
  /** Replace from the Nth match on (1 by default). */
  readonly occurrence: number;
  /** `r`: apply to member names. */
  readonly names: boolean;
  /** `s`: apply to symbolic link targets. */
  readonly symlinks: boolean;
  /** `h`: apply to hard link targets. */
  readonly hardlinks: boolean;
}

/** What a rename rule is being applied to. */
export type RenameTarget = "name" | "symlink" | "hardlink";

export class RenameSyntaxError extends Error {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(`invalid rename expression ${JSON.stringify(expression)}: ${message}`);
    this.name = "RenameSyntaxError";
  }
}

/** Read up to the next unescaped `delim`; `\delim` becomes `escaped(delim)`. */
function readPart(text: string, start: number, delim: string, escaped: (d: string) => string): { part: string; end: number } | null {
  let part = "";
  let i = start;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) {
      const n = text[i + 1]!;
      part += n === delim ? escaped(delim) : ch + n;
      i += 2;
      continue;
    }
    if (ch === delim) return { part, end: i + 1 };
    part += ch;
    i++;
  }
  return null;
}

/** A delimiter written literally in the given regex dialect. */
function literalIn(extended: boolean): (d: string) => string {
  const special = extended ? ".[]*^$\\(){}|+?" : ".[]*^$\\";
  return (d) => (special.includes(d) ? `\\${d}` : d);
}

function parseReplacement(src: string, groups: number, expr: string): ReplPart[] {
  const parts: ReplPart[] = [];
  let text = "";
  const flush = (): void => {
    if (text) parts.push({ kind: "text", text });
    text = "";
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "&") {
      flush();
      parts.push({ kind: "group", index: 0 });
    } else if (ch === "\\" && i + 1 < src.length) {
      const n = src[++i]!;
      if (n >= "0" && n <= "9") {
        const index = Number(n);
        if (index > groups) throw new RenameSyntaxError(expr, `reference \\${n} to a group that does not exist`);
        flush();
        parts.push({ kind: "group", index });
      } else if (n === "U" || n === "L" || n === "E") {
        flush();
        parts.push({ kind: "case", mode: n === "U" ? "upper" : n === "L" ? "lower" : "none" });
      } else if (n === "u" || n === "l") {
        flush();
        parts.push({ kind: "once", mode: n === "u" ? "upper" : "lower" });
      } else if (n === "n") text += "\n";
      else if (n === "t") text += "\t";
      else text += n;
    } else text += ch;
  }
  flush();
  return parts;
}

/** Parse one `rename:` entry, which may hold several `;`-separated expressions. */
export function parseRename(entry: string): RenameRule[] {
  const rules: RenameRule[] = [];
  let i = 0;
  const text = entry.trim();
  if (text === "") throw new RenameSyntaxError(entry, "empty expression");
  while (i < text.length) {
    const start = i;
    if (text[i] !== "s") throw new RenameSyntaxError(entry, `expected "s" at offset ${i}, found ${JSON.stringify(text[i])}`);
    const delim = text[i + 1];
    if (delim === undefined || delim === "\\" || delim === "\n") {
      throw new RenameSyntaxError(entry, "missing delimiter after s");
    }
    // The flags decide the dialect, but they come last: split first, translate after.
    const raw = readPart(text, i + 2, delim, (d) => `\u0000${d}`);
    if (!raw) throw new RenameSyntaxError(entry, "unterminated regular expression");
    const repl = readPart(text, raw.end, delim, (d) => d);
    if (!repl) throw new RenameSyntaxError(entry, "unterminated replacement");
    i = repl.end;
    let global = false;
    let icase = false;
    let extended = false;
    let occurrence = 0;
    let names = true;
    let symlinks = true;
    let hardlinks = true;
    while (i < text.length && text[i] !== ";") {
      const f = text[i]!;
      if (f >= "0" && f <= "9") {
        const m = /^\d+/.exec(text.slice(i))!;
        if (occurrence) throw new RenameSyntaxError(entry, "more than one occurrence number");
        occurrence = Number(m[0]);
        if (occurrence === 0) throw new RenameSyntaxError(entry, "the occurrence number must be at least 1");
        i += m[0].length;
        continue;
      }
      switch (f) {
        case "g":
          global = true;
          break;
        case "i":
          icase = true;
          break;
        case "x":
          extended = true;
          break;
        case "r":
        case "R":
          names = f === "r";
          break;
        case "s":
        case "S":
          symlinks = f === "s";
          break;
        case "h":
        case "H":
          hardlinks = f === "h";
          break;
        case " ":
        case "\t":
        case "\n":
          break;
        default:
          throw new RenameSyntaxError(entry, `unknown flag ${JSON.stringify(f)}`);
      }
      i++;
    }
    const esc = literalIn(extended);
    const regexSource = raw.part.replace(/\u0000(.)/gsu, (_m, d: string) => esc(d));
    let regex: RegExp;
    let groups: number;
    try {
      const js = posixToJs(regexSource, extended);
      groups = js.groups;
      regex = new RegExp(js.source, `gsu${icase ? "i" : ""}`);
    } catch (e) {
      if (e instanceof RegexSyntaxError || e instanceof SyntaxError) throw new RenameSyntaxError(entry, e.message);
      throw e;
    }
    rules.push({
      source: text.slice(start, i),
      regex,
      replacement: parseReplacement(repl.part, groups, entry),
      global,
      occurrence: occurrence || 1,
      names,
      symlinks,
      hardlinks,
    });
    while (text[i] === ";" || text[i] === " " || text[i] === "\n" || text[i] === "\t") i++;
  }
  return rules;
}

/** Parse every `rename:` entry, in order. */
export function parseRenames(entries: readonly string[]): RenameRule[] {
  return entries.flatMap(parseRename);
}

function expand(parts: readonly ReplPart[], m: RegExpExecArray): string {
  let out = "";
  let mode: CaseMode = "none";
  let once: "upper" | "lower" | undefined;
  const add = (s: string): void => {
    if (!s) return;
    let t = mode === "upper" ? s.toUpperCase() : mode === "lower" ? s.toLowerCase() : s;
    if (once) {
      const first = t[0]!;
      t = (once === "upper" ? first.toUpperCase() : first.toLowerCase()) + t.slice(1);
      once = undefined;
    }
    out += t;
  };
  for (const p of parts) {
    switch (p.kind) {
      case "text":
        add(p.text);
        break;
      case "group":
        add(m[p.index] ?? "");
        break;
      case "case":
        mode = p.mode;
        once = undefined;
        break;
      case "once":
        once = p.mode;
        break;
    }
  }
  return out;
}

/** Apply one rule to a string, sed style. */
export function applyRule(rule: RenameRule, input: string): string {
  const re = rule.regex;
  re.lastIndex = 0;
  let out = "";
  let copied = 0; // input before this index is already in `out`
  let count = 0;
  let prevEnd = -1;
  while (re.lastIndex <= input.length) {
    const m = re.exec(input);
    if (!m) break;
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      // sed: no empty match right where the previous match ended.
      if (m.index === prevEnd) {
        re.lastIndex = m.index + 1;
        continue;
      }
      re.lastIndex = m.index + 1;
    }
    count++;
    prevEnd = end;
    if (count >= rule.occurrence) {
      out += input.slice(copied, m.index) + expand(rule.replacement, m);
      copied = end;
      if (!rule.global) break;
    }
  }
  re.lastIndex = 0;
  return out + input.slice(copied);
}

/** Apply every rule that concerns `target`, in order. */
export function applyRenames(rules: readonly RenameRule[], input: string, target: RenameTarget): string {
  let s = input;
  for (const rule of rules) {
    const applies = target === "name" ? rule.names : target === "symlink" ? rule.symlinks : rule.hardlinks;
    if (applies) s = applyRule(rule, s);
  }
  return s;
}
