// What reading one YAML file may cost. The files troupe reads (project
// files, task.yaml, scenarios, inventories, reuse files) are small and
// written by people; these limits stop a hostile or broken one from taking
// minutes and gigabytes before anything is reported:
//
// - a file is at most MAX_INPUT_BYTES (the `yaml` package parses about half a
//   megabyte a second here; the largest real Spread files are under 100 KB);
// - lists and maps nest at most MAX_NESTING deep. The parser keeps its own
//   stack, but building the document recurses, and 800 levels of `[[[...`
//   overflow the call stack (once, a regular expression compiled at that
//   moment took the process down with it). The depth is checked as the file
//   is parsed, before the document is built;
// - aliases may add at most MAX_ALIAS_NODES values to a file. Ten lines of
//   nested anchors (`a1: &a1 [*a0,*a0,...]`, ..., `*a6`) otherwise expand to
//   millions of values: the "billion laughs" attack. The count is made on the
//   parsed document in one pass, sharing each anchor's size, before anything
//   is expanded, and the alias that crosses the limit is reported.

import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  Parser,
  YAMLParseError,
  type Alias,
  type CST,
  type Document,
  type DocumentOptions,
  type LineCounter,
  type Node,
  type ParseOptions,
  type SchemaOptions,
} from "yaml";
import type { SourcePos } from "../model/position.js";
import type { Problem } from "../util/errors.js";
import { plainText } from "../util/text.js";
import { formatPath, type PathKey } from "./yaml-positions.js";
import { formatBytes, inputTooLarge, MAX_INPUT_BYTES } from "./input-size.js";

export { formatBytes, inputTooLarge, MAX_INPUT_BYTES };

/** How many values aliases may add to one file, all aliases together. */
export const MAX_ALIAS_NODES = 100_000;

/** How deep lists and maps may nest (troupe's own tree builder reports anything past 200). */
export const MAX_NESTING = 300;

/** Deeper than this, the count stops descending (MAX_NESTING stops such files earlier). */
const MAX_WALK_DEPTH = 1000;

export interface YamlLimits {
  /** Default MAX_ALIAS_NODES. */
  readonly maxAliasNodes?: number;
  /** Default MAX_INPUT_BYTES. */
  readonly maxBytes?: number;
}

export type ParsedDocument = { readonly ok: true; readonly doc: Document.Parsed } | { readonly ok: false; readonly problem: Problem };

/**
 * The yaml package's parseDocument, with the nesting checked as the parser
 * goes: the same lexer, parser and composer (the pipeline the package
 * documents for a parser driven by hand), stopping before composition when
 * the parser's stack passes MAX_NESTING.
 */
export function parseDocumentWithin(
  text: string,
  file: string,
  lineCounter: LineCounter,
  options: ParseOptions & DocumentOptions & SchemaOptions = {},
): ParsedDocument {
  const parser = new Parser(lineCounter.addNewLine);
  let tooDeep: number | undefined;
  function* tokens(): Generator<CST.Token> {
    lineCounter.addNewLine(0);
    for (const lexeme of new Lexer().lex(text)) {
      yield* parser.next(lexeme);
      if (parser.stack.length > MAX_NESTING) {
        tooDeep = parser.offset;
        return;
      }
    }
    yield* parser.end();
  }
  const tokenList = [...tokens()];
  if (tooDeep !== undefined) {
    const { line, col } = lineCounter.linePos(tooDeep);
    return {
      ok: false,
      problem: {
        pos: { file, line, col },
        message: `the file nests lists and maps too deeply (more than ${MAX_NESTING} levels); flatten it`,
      },
    };
  }
  let doc: Document.Parsed | undefined;
  for (const next of new Composer(options).compose(tokenList, true, text.length)) {
    if (!doc) doc = next;
    else {
      // As parseDocument: a second document is an error.
      doc.errors.push(
        new YAMLParseError(next.range.slice(0, 2) as [number, number], "MULTIPLE_DOCS", "Source contains multiple documents"),
      );
      break;
    }
  }
  // compose(tokens, forceDoc = true) always gives a document.
  return { ok: true, doc: doc as Document.Parsed };
}

/** What each alias of a document refers to, once the expansion is known to be within the limit. */
export type AliasTargets = ReadonlyMap<Alias, Node>;

export type AliasCheck = { readonly ok: true; readonly targets: AliasTargets } | { readonly ok: false; readonly problem: Problem };

/**
 * Resolve every alias of `doc` as the `yaml` package does (the last anchor of
 * that name before the alias) and count the values the aliases add, in one
 * pass over what is written. Fails at the first alias that takes the count
 * past the limit, or that refers to a node containing it.
 */
export function checkAliases(doc: Document, lineCounter: LineCounter, file: string, maxAliasNodes: number = MAX_ALIAS_NODES): AliasCheck {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  /** The expanded size of every anchored node once walked. */
  const sizes = new Map<Node, number>();
  /** Anchored nodes being walked: an alias to one of these is inside it. */
  const open = new Set<Node>();
  const path: PathKey[] = [];
  let added = 0;
  let problem: Problem | undefined;

  const posOf = (node: Node): SourcePos => {
    const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
    return { file, line, col };
  };
  const fail = (node: Node, message: string): void => {
    problem = { pos: posOf(node), ...(path.length > 0 ? { path: formatPath(path) } : {}), message };
  };

  const walk = (node: unknown, depth: number): number => {
    if (problem || node === null || node === undefined) return 0;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) return 1; // the parser reports an unknown anchor
      targets.set(node, target);
      if (open.has(target)) {
        fail(node, `alias *${node.source} is inside its own anchor &${node.source}, which would make the value infinite; remove it`);
        return 0;
      }
      const size = sizes.get(target) ?? 1;
      added += size;
      if (added > maxAliasNodes) {
        fail(
          node,
          `alias *${node.source} expands the file past ${maxAliasNodes} values (an alias bomb?); write the values out or use fewer aliases of aliases`,
        );
      }
      return size;
    }
    const anchored = (node as { anchor?: string }).anchor;
    if (anchored) {
      anchors.set(anchored, node as Node);
      open.add(node as Node);
    }
    let size = 1;
    if (depth < MAX_WALK_DEPTH && (isMap(node) || isSeq(node))) {
      node.items.forEach((item, i) => {
        if (isPair(item)) {
          size += walk(item.key, depth + 1);
          path.push(isScalar(item.key) ? plainText(item.key.value) : "?");
          size += walk(item.value, depth + 1);
          path.pop();
        } else {
          path.push(i);
          size += walk(item, depth + 1);
          path.pop();
        }
      });
    }
    if (anchored) {
      open.delete(node as Node);
      sizes.set(node as Node, size);
    }
    return size;
  };

  walk(doc.contents, 0);
  return problem ? { ok: false, problem } : { ok: true, targets };
}
