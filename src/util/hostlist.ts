// Hostlist expressions as pdsh and ClusterShell write them. Pure.
//
//   node[01-64].example.com   ->  node01.example.com ... node64.example.com
//   n[1-3,7]                  ->  n1 n2 n3 n7
//   r[1-2]n[1-2]              ->  r1n1 r1n2 r2n1 r2n2   (the last bracket varies fastest)
//   web1,db[1-2]              ->  web1 db1 db2          (commas outside brackets separate)
//   n[1-10/3]                 ->  n1 n4 n7 n10          (ClusterShell's step)
//   n[1-5]!n3                 ->  n1 n2 n4 n5           (ClusterShell's difference)
//
// Zero padding follows the range's lower bound: `[01-10]` gives `01 ... 10`,
// `[1-10]` gives `1 ... 10`, `[001-100]` gives three digits. The result keeps
// the order written and drops repeats. Anything else inside brackets is an
// error, so a typo never silently becomes a host name.

import { TroupeError } from "./errors.js";

/** More names than this from one expression is almost certainly a mistake. */
export const MAX_HOSTS = 100_000;

/** Expand a hostlist expression into host names, in order, without repeats. */
export function expandHostlist(expr: string): string[] {
  const text = expr.trim();
  if (text === "") throw hostlistError(expr, "it is empty");
  const [include, ...excludes] = splitTop(expr, text, "!");
  const names = expandUnion(expr, include ?? "");
  if (excludes.length === 0) return names;
  const drop = new Set<string>();
  for (const part of excludes) for (const n of expandUnion(expr, part)) drop.add(n);
  return names.filter((n) => !drop.has(n));
}

/** Whether a string holds hostlist syntax (a bracket, a top-level comma or `!`). */
export function isHostlist(expr: string): boolean {
  return /[[\],!]/.test(expr);
}

/**
 * Fold host names back into a compact expression (`n[1-3,7]`), for messages.
 * Only a trailing number is folded; names are grouped by what precedes it.
 */
export function foldHostlist(names: readonly string[]): string {
  type Group = { prefix: string; suffix: string; nums: string[] };
  const entries: (string | Group)[] = [];
  const groups = new Map<string, Group>();
  for (const name of names) {
    const m = /^(.*?)(\d+)(\D*)$/.exec(name);
    if (!m) {
      entries.push(name);
      continue;
    }
    const prefix = m[1] ?? "";
    const suffix = m[3] ?? "";
    const key = `${prefix}\0${suffix}`;
    let g = groups.get(key);
    if (!g) {
      g = { prefix, suffix, nums: [] };
      groups.set(key, g);
      entries.push(g);
    }
    g.nums.push(m[2] ?? "");
  }
  return entries
    .map((e) => {
      if (typeof e === "string") return e;
      if (e.nums.length === 1) return `${e.prefix}${e.nums[0]}${e.suffix}`;
      return `${e.prefix}[${foldNumbers(e.nums)}]${e.suffix}`;
    })
    .join(",");
}

function foldNumbers(nums: readonly string[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < nums.length) {
    const first = nums[i] ?? "";
    let j = i;
    while (j + 1 < nums.length) {
      const cur = nums[j] ?? "";
      const next = nums[j + 1] ?? "";
      if (Number(next) !== Number(cur) + 1 || padWidth(next) !== padWidth(first)) break;
      j++;
    }
    parts.push(j === i ? first : `${first}-${nums[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function padWidth(n: string): number {
  return n.length > 1 && n.startsWith("0") ? n.length : 0;
}

function expandUnion(expr: string, text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of splitTop(expr, text, ",")) {
    const item = raw.trim();
    if (item === "") throw hostlistError(expr, "it has an empty item (two commas in a row, or a comma at an end)");
    for (const name of expandItem(expr, item)) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push(name);
      if (out.length > MAX_HOSTS) throw hostlistError(expr, `it names more than ${MAX_HOSTS} hosts`);
    }
  }
  return out;
}

/** Split on `sep` outside brackets, checking that brackets balance. */
function splitTop(expr: string, text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "[") {
      if (depth > 0) throw hostlistError(expr, `brackets cannot nest (column ${i + 1})`);
      depth++;
    } else if (c === "]") {
      if (depth === 0) throw hostlistError(expr, `']' without '[' (column ${i + 1})`);
      depth--;
    } else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth > 0) throw hostlistError(expr, "'[' is never closed");
  parts.push(text.slice(start));
  return parts;
}

/** One name with zero or more bracket groups: the cartesian product, last group fastest. */
function expandItem(expr: string, item: string): string[] {
  if (/\s/.test(item)) throw hostlistError(expr, `'${item}' contains white space`);
  let results = [""];
  let i = 0;
  while (i < item.length) {
    const open = item.indexOf("[", i);
    if (open < 0) {
      const tail = item.slice(i);
      results = results.map((r) => r + tail);
      break;
    }
    const close = item.indexOf("]", open);
    const literal = item.slice(i, open);
    const values = expandBracket(expr, item.slice(open + 1, close));
    if (results.length * values.length > MAX_HOSTS) throw hostlistError(expr, `it names more than ${MAX_HOSTS} hosts`);
    const next: string[] = [];
    for (const r of results) for (const v of values) next.push(r + literal + v);
    results = next;
    i = close + 1;
  }
  return results;
}

/** The inside of one bracket: `1-3,7`, `01-10/2`, `5`. */
function expandBracket(expr: string, body: string): string[] {
  if (body.trim() === "") throw hostlistError(expr, "'[]' is empty");
  const out: string[] = [];
  for (const raw of body.split(",")) {
    const part = raw.trim();
    const m = /^(\d+)(?:-(\d+)(?:\/(\d+))?)?$/.exec(part);
    if (!m) {
      throw hostlistError(expr, `'[${body}]': '${part}' is not a number or a range like 1-10, 01-64 or 1-10/2`);
    }
    const lo = m[1] ?? "";
    const hiText = m[2];
    if (hiText === undefined) {
      out.push(lo);
      continue;
    }
    const from = Number(lo);
    const to = Number(hiText);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from) throw hostlistError(expr, `'[${body}]': range ${part} goes backwards`);
    if (step < 1) throw hostlistError(expr, `'[${body}]': the step of ${part} must be at least 1`);
    if ((to - from) / step + 1 > MAX_HOSTS) throw hostlistError(expr, `it names more than ${MAX_HOSTS} hosts`);
    const width = padWidth(lo);
    for (let n = from; n <= to; n += step) out.push(String(n).padStart(width, "0"));
  }
  return out;
}

function hostlistError(expr: string, what: string): TroupeError {
  return new TroupeError("E_USAGE", `bad hostlist '${expr}': ${what}`);
}
