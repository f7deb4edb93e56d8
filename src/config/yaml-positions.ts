// YAML (and JSON, which is YAML too) read into a small tree that remembers
// where every key and value was written, so that any later complaint can say
// `file:line:col`.
//
// The file is read as YAML 1.1, as Spread's yaml.v2 reads it (`yes`/`no` are
// booleans, `<<` merge keys work). Aliases are resolved in the tree, so a
// value reached through `*anchor` points at the anchor's text; the tree built
// for an anchor is shared by its aliases, and what aliases may add is limited
// (yaml-limits.ts) so that an alias bomb is refused at once. Duplicate keys
// are kept (the last one wins in `toPlain`) so that the loader can report them
// with both positions instead of the parser stopping at the first.

import { plainText } from "../util/text.js";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter } from "yaml";
import {
  checkAliases,
  inputTooLarge,
  MAX_ALIAS_NODES,
  MAX_INPUT_BYTES,
  parseDocumentWithin,
  type AliasTargets,
  type YamlLimits,
} from "./yaml-limits.js";
import type { SourcePos } from "../model/position.js";
import { parseSimpleYaml } from "./yaml-simple.js";
import type { Problem } from "../util/errors.js";

export type PathKey = string | number;
export type YamlPath = readonly PathKey[];

export interface MapEntry {
  readonly key: string;
  readonly keyPos: SourcePos;
  readonly value: LNode;
}

export type LNode =
  | { readonly kind: "map"; readonly pos: SourcePos; readonly entries: readonly MapEntry[] }
  | { readonly kind: "seq"; readonly pos: SourcePos; readonly items: readonly LNode[] }
  | {
      readonly kind: "scalar";
      readonly pos: SourcePos;
      /** The typed value; anything but text, numbers and booleans (dates, binary) is given as its text. */
      readonly value: string | number | boolean | null;
      /** The text yaml.v2 would put in a Go string: the scalar as written, "" for null. */
      readonly text: string;
    };

export interface ParsedYaml {
  /** Undefined for an empty file. */
  readonly root: LNode | undefined;
  /** Syntax errors, positioned. Empty when the file parsed. */
  readonly problems: readonly Problem[];
}

const MAX_DEPTH = 200;

/**
 * Parse `text` (the contents of `file`, as shown in problems). Text larger
 * than the input limit, and aliases that would add too many values, are
 * problems with no root, as syntax errors are.
 */
/**
 * How scalars are read. Default: YAML 1.1, as Spread's Go parser reads its
 * files. `version: "1.2"` reads the core schema (`y`, `on` stay text);
 * `plain` decides what each plain (unquoted, not block) scalar means,
 * from its text, the others being text (for formats read by another
 * parser, such as Octogram's recipes).
 */
export interface YamlRead {
  readonly version?: "1.1" | "1.2";
  readonly plain?: (source: string) => string | number | boolean | null;
}

export function parseYaml(text: string, file: string, limits: YamlLimits = {}, read: YamlRead = {}): ParsedYaml {
  // Characters, not bytes: text read from a file within the limit passes.
  const tooLarge = inputTooLarge(text.length, file, limits.maxBytes ?? MAX_INPUT_BYTES);
  if (tooLarge) return { root: undefined, problems: [tooLarge] };
  // Most task.yaml files are a few plain keys: read those without the package (yaml-simple.ts).
  return (read.plain ? undefined : parseSimpleYaml(text, file)) ?? parseWithPackage(text, file, limits, read);
}

/** parseYaml's reading by the `yaml` package, within the limits (the size is checked already). */
export function parseWithPackage(text: string, file: string, limits: YamlLimits = {}, read: YamlRead = {}): ParsedYaml {
  const lineCounter = new LineCounter();
  const parsed = parseDocumentWithin(text, file, lineCounter, {
    version: read.version ?? "1.1",
    merge: true,
    uniqueKeys: false,
    ...(read.plain ? { schema: "failsafe" as const } : {}),
  });
  if (!parsed.ok) return { root: undefined, problems: [parsed.problem] };
  const doc = parsed.doc;
  const at = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length > 0) {
    // The first syntax error is the one to fix; those after it are mostly its echoes.
    const problems = doc.errors.slice(0, 1).map((e) => ({
      pos: at(e.pos[0]),
      message: `invalid YAML: ${lowerFirst(e.message)} (check the indentation and quoting here)`,
    }));
    return { root: undefined, problems };
  }
  const aliases = checkAliases(doc, lineCounter, file, limits.maxAliasNodes ?? MAX_ALIAS_NODES);
  if (!aliases.ok) return { root: undefined, problems: [aliases.problem] };
  const problems: Problem[] = [];
  const builder = new TreeBuilder(aliases.targets, at, file, problems, read.plain);
  const root = doc.contents === null ? undefined : builder.build(doc.contents, 0);
  return { root: root && isNullScalar(root) ? undefined : root, problems };
}

function lowerFirst(s: string): string {
  const first = s.split("\n")[0] ?? s;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function isNullScalar(n: LNode): boolean {
  return n.kind === "scalar" && n.value === null;
}

class TreeBuilder {
  /** The tree of each anchored node, built once and shared by its aliases. */
  private readonly built = new Map<unknown, LNode>();

  constructor(
    private readonly targets: AliasTargets,
    private readonly at: (offset: number) => SourcePos,
    private readonly file: string,
    private readonly problems: Problem[],
    private readonly plain?: YamlRead["plain"],
  ) {}

  private posOf(node: unknown): SourcePos {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.at(range[0]) : { file: this.file, line: 1, col: 1 };
  }

  build(node: unknown, depth: number): LNode {
    const pos = this.posOf(node);
    if (depth > MAX_DEPTH) {
      this.problems.push({ pos, message: "the document nests too deeply (an alias that refers to itself?)" });
      return { kind: "scalar", pos, value: null, text: "" };
    }
    if (isAlias(node)) {
      const target = this.targets.get(node);
      if (!target) return { kind: "scalar", pos, value: null, text: "" };
      return this.built.get(target) ?? this.build(target, depth + 1);
    }
    const tree = this.tree(node, pos, depth);
    if ((node as { anchor?: string }).anchor) this.built.set(node, tree);
    return tree;
  }

  private tree(node: unknown, pos: SourcePos, depth: number): LNode {
    if (isMap(node)) return { kind: "map", pos, entries: this.entries(node.items, depth) };
    if (isSeq(node)) return { kind: "seq", pos, items: node.items.map((item) => this.build(item, depth + 1)) };
    if (isScalar(node) && this.plain) {
      const text = typeof node.value === "string" ? node.value : "";
      const source = typeof node.source === "string" ? node.source : text;
      return scalarNode(pos, node.type === "PLAIN" ? this.plain(source) : text, source);
    }
    if (isScalar(node)) return scalarNode(pos, node.value, node.source);
    return { kind: "scalar", pos, value: null, text: "" };
  }

  private entries(pairs: readonly unknown[], depth: number): MapEntry[] {
    const explicit = new Set<string>();
    for (const pair of pairs) {
      if (isPair(pair) && !isMergeKey(pair.key)) explicit.add(this.keyText(pair.key, false));
    }
    const out: MapEntry[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      if (isMergeKey(pair.key)) {
        for (const entry of this.mergeSources(pair.value, depth)) {
          if (!explicit.has(entry.key) && !out.some((e) => e.key === entry.key)) out.push(entry);
        }
        continue;
      }
      const key = this.keyText(pair.key, true);
      const value = pair.value === null || pair.value === undefined ? undefined : this.build(pair.value, depth + 1);
      const keyPos = this.posOf(pair.key);
      out.push({ key, keyPos, value: value ?? { kind: "scalar", pos: keyPos, value: null, text: "" } });
    }
    return out;
  }

  private mergeSources(value: unknown, depth: number): MapEntry[] {
    const node = this.build(value, depth + 1);
    const maps = node.kind === "seq" ? node.items : [node];
    const out: MapEntry[] = [];
    for (const m of maps) {
      if (m.kind !== "map") {
        this.problems.push({ pos: m.pos, message: "a `<<` merge key takes a map or a list of maps (usually `*anchor`)" });
        continue;
      }
      for (const e of m.entries) if (!out.some((o) => o.key === e.key)) out.push(e);
    }
    return out;
  }

  private keyText(key: unknown, report: boolean): string {
    if (isScalar(key)) {
      const v = key.value;
      if (typeof v === "string") return v;
      if (v === null || v === undefined) return "";
      return typeof key.source === "string" ? key.source : plainText(v);
    }
    if (report) {
      this.problems.push({ pos: this.posOf(key), message: "keys must be plain text, not a list or a map" });
    }
    return "";
  }
}

function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const v = key.value;
  return (typeof v === "symbol" && v.description === "<<") || (v === "<<" && key.type === "PLAIN");
}

function scalarNode(pos: SourcePos, value: unknown, source: string | undefined): LNode {
  if (value === null || value === undefined) return { kind: "scalar", pos, value: null, text: "" };
  if (typeof value === "string") return { kind: "scalar", pos, value, text: value };
  const text = typeof source === "string" ? source : plainText(value);
  // `.` or `.nan` read as NaN by YAML 1.1: nobody means that, keep the text.
  if (typeof value === "number" && !Number.isFinite(value)) return { kind: "scalar", pos, value: text, text };
  if (typeof value === "number" || typeof value === "boolean") return { kind: "scalar", pos, value, text };
  // Timestamps, binary, big integers: keep them as the text that was written.
  return { kind: "scalar", pos, value: text, text };
}

/**
 * The plain JavaScript value of a node, for schema validation. Null map
 * values become absent (`key:` with nothing after it means "not set", as in
 * Spread); the last of duplicate keys wins.
 */
export function toPlain(node: LNode | undefined): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case "scalar":
      return node.value === null ? undefined : node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) {
        Object.defineProperty(out, e.key, { value: toPlain(e.value), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

export interface Located {
  /** The node at the path, when the path exists. */
  readonly node?: LNode;
  /** Where the value is (its key when the value is empty); the nearest existing parent when the path does not exist. */
  readonly pos: SourcePos;
  /** Where the key is, when the path ends at a map key that exists. */
  readonly keyPos?: SourcePos;
}

/** Find where `path` was written. */
export function locate(root: LNode | undefined, path: YamlPath, file: string): Located {
  let node: LNode | undefined = root;
  let pos: SourcePos = root?.pos ?? { file, line: 1, col: 1 };
  let keyPos: SourcePos | undefined;
  for (const seg of path) {
    if (!node) break;
    keyPos = undefined;
    let next: LNode | undefined;
    if (node.kind === "map") {
      const entry = findEntry(node, String(seg));
      if (entry) {
        next = entry.value;
        keyPos = entry.keyPos;
      }
    } else if (node.kind === "seq" && typeof seg === "number") {
      next = node.items[seg];
    }
    if (!next) return { pos };
    node = next;
    pos = next.kind === "scalar" && next.value === null && keyPos ? keyPos : next.pos;
  }
  return node ? { node, pos, ...(keyPos ? { keyPos } : {}) } : { pos };
}

/** The last entry with this key (the one `toPlain` keeps). */
export function findEntry(node: LNode | undefined, key: string): MapEntry | undefined {
  if (!node || node.kind !== "map") return undefined;
  for (let i = node.entries.length - 1; i >= 0; i--) {
    const e = node.entries[i];
    if (e && e.key === key) return e;
  }
  return undefined;
}

/** The child at `path`, if it exists. */
export function nodeAt(root: LNode | undefined, path: YamlPath, file: string): LNode | undefined {
  return locate(root, path, file).node;
}

/** `backends.lxd.systems[0].workers`: the dotted form used in problems. */
export function formatPath(path: YamlPath): string {
  let out = "";
  path.forEach((seg, i) => {
    if (typeof seg === "number") {
      out += `[${seg}]`;
      return;
    }
    // A system in map form, `- ubuntu-16.04: {...}`: its name is already the list item.
    if (i >= 2 && path[i - 2] === "systems" && typeof path[i - 1] === "number") return;
    out += out === "" ? seg : `.${seg}`;
  });
  return out;
}
