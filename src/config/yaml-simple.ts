// A fast path for the simplest YAML files: a top-level map of plain keys,
// each with a plain text value on its line or a literal block (`|`) under it,
// which is what most task.yaml files are (`summary: ...`, `execute: |`).
// The `yaml` package costs about 0.1 ms per such file (0.1 s of a project of
// 1,000 tasks, before the first job); reading them here costs a tenth of it.
//
// The reading must be the package's to the letter: anything this file is not
// sure of (another kind of value, a word YAML 1.1 reads as a boolean or null,
// a number, an indicator, a comment after a value, tabs, CR, non-ASCII text,
// a line it does not recognise) makes it give up, and the file goes to the
// package. The unit test compares both readings on every YAML file of the
// repository and on generated ones.

import type { SourcePos } from "../model/position.js";
import type { LNode, MapEntry, ParsedYaml } from "./yaml-positions.js";

/** A key this reads: a word YAML 1.1 does not read as anything but text. */
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Words YAML 1.1 reads as booleans or null, in any case (the package takes some cases only: refusing all is safe). */
const NOT_TEXT = /^(?:y|yes|n|no|true|false|on|off|null)$/i;
/** Printable ASCII, spaces included: no tab, CR, control character or non-ASCII text. */
const PRINTABLE = /^[\x20-\x7e]*$/;
/** Characters a plain value may start with: a letter, or one of these, never a YAML indicator, digit, sign or dot. */
const PLAIN_START = /^[A-Za-z_/$(;=^<\\]/;

/** The tree of `text` when it is such a simple map, else undefined (then parse it with the package). */
export function parseSimpleYaml(text: string, file: string): ParsedYaml | undefined {
  if (!text.endsWith("\n")) return undefined;
  const lines = text.split("\n");
  lines.pop(); // after the last "\n"
  const entries: MapEntry[] = [];
  let mapPos: SourcePos | undefined;
  const pos = (line: number, col: number): SourcePos => ({ file, line: line + 1, col: col + 1 });
  for (let i = 0; i < lines.length;) {
    const line = lines[i]!;
    if (!PRINTABLE.test(line) || line.endsWith(" ")) return undefined;
    if (line === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const colon = line.indexOf(": ");
    if (colon <= 0) return undefined;
    const key = line.slice(0, colon);
    if (!KEY.test(key) || NOT_TEXT.test(key)) return undefined;
    let at = colon + 2;
    while (line[at] === " ") at++;
    const value = line.slice(at);
    const keyPos = pos(i, 0);
    mapPos ??= keyPos;
    if (value === "|") {
      const block = literalBlock(lines, i + 1);
      if (!block) return undefined;
      entries.push({ key, keyPos, value: { kind: "scalar", pos: pos(i, at), value: block.text, text: block.text } });
      i = block.next;
      continue;
    }
    if (!plainText(value)) return undefined;
    entries.push({ key, keyPos, value: { kind: "scalar", pos: pos(i, at), value, text: value } });
    i++;
  }
  if (!mapPos) return undefined;
  const root: LNode = { kind: "map", pos: mapPos, entries };
  return { root, problems: [] };
}

/** Whether `value`, as a plain scalar alone on its line, is this very text to YAML 1.1. */
function plainText(value: string): boolean {
  if (!PLAIN_START.test(value) || NOT_TEXT.test(value)) return false;
  // A comment, a nested map, a key ending in `:`: the package's to read.
  return !value.includes("#") && !value.includes(": ") && !value.endsWith(":");
}

/**
 * A literal block scalar (`|`, clip) whose lines start at `from`: its
 * indentation is its first line's, it ends before the first line indented
 * less (a key at column 1, or the end of the file), and its text is its
 * lines without the indentation, with one final newline.
 */
function literalBlock(lines: readonly string[], from: number): { text: string; next: number } | undefined {
  const first = lines[from];
  if (first === undefined) return undefined;
  const indent = first.length - first.trimStart().length;
  if (indent === 0 || first.trim() === "") return undefined;
  const body: string[] = [];
  let i = from;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") {
      body.push("");
      continue;
    }
    if (!PRINTABLE.test(line)) return undefined;
    const own = line.length - line.trimStart().length;
    if (own >= indent) {
      body.push(line.slice(indent));
      continue;
    }
    // Indented less: only a key at column 1 may end the block here.
    if (own > 0 || line.startsWith("#")) return undefined;
    break;
  }
  while (body.length > 0 && body[body.length - 1] === "") body.pop();
  // Blank lines at the block's end belong to the text that follows; lines of spaces are the package's to read.
  if (body.some((l) => l.trim() === "" && l !== "")) return undefined;
  return { text: body.join("\n") + "\n", next: i };
}
