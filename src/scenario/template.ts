// Templates: Jinja2, as Octogram (Jingoo) and Ansible users write them,
// through nunjucks, strictly. `{{ vars.x }}`, `{{ host.name }}`,
// `{{ vars.total | int + res | int }}`, `{{ vars.n | default(3) }}`,
// `{% for p in vars.peers %}...{% endfor %}`, `{% if re[1] != "1" %}`,
// Jinja2's filters and tests, and a few of troupe's filters:
//
//   next / prev     a number plus / minus one (`{{ re[1] | next }}`)
//   sh              quote for the shell (`echo {{ item | sh }}`)
//   push            a list with one more element (`{{ vars.peers | push(host.name) }}`)
//   basename / dirname / hex / tojson
//
// Why nunjucks (3.2.4): it reads Jinja2's syntax, filters and tests, gives
// the line and column of every error, and can refuse undefined values
// (throwOnUndefined); @huggingface/jinja has neither error positions nor a
// strict mode. This is the only module that knows the library.
//
// An undefined variable or filter is an error that names the stage, the job,
// the host, the template and, when it came from a file, the file:line:col of
// the spot. `{% if vars.x %}`, `| default(...)` and `is defined` may test a
// variable that is not set. Lists and maps print as JSON; nil as nothing.

import { shQuote } from "../exec/shell-quote.js";
import nunjucks from "nunjucks";
import type { SourcePos } from "../model/position.js";
import { formatPath } from "../config/yaml-positions.js";
import { plainText } from "../util/text.js";
import { TroupeError, type Problem } from "../util/errors.js";
import type { Template, TextPlace, Value } from "./types.js";
import { errorText } from "../util/text.js";

/** The names a template may start with. */
export const TEMPLATE_ROOTS = [
  "vars",
  "host",
  "hosts",
  "item",
  "re",
  "res",
  "run",
  "stage",
  "job",
  "scenario",
  "prometheus",
  "agent",
] as const;

function toNumber(v: unknown, filter: string): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (String(v).trim() === "" || !Number.isFinite(n)) throw new Error(`${filter} needs a number, not ${JSON.stringify(v)}`);
  return n;
}

/** What a value prints as: lists and maps as JSON (they go into scripts and URLs), nil as nothing. */
function printed(v: unknown): unknown {
  if (v === null || v === undefined) return "";
  if (typeof v === "object" && !(v instanceof nunjucks.runtime.SafeString)) return plainText(v);
  return v;
}

interface Runtime {
  ensureDefined(val: unknown, lineno: number, colno: number): unknown;
  suppressValue(val: unknown, autoescape: boolean): unknown;
}

let installed = false;
/**
 * Jinja2's own compatibility (True/False/None, slices, `.items()`), and
 * troupe's output rules in nunjucks' runtime: only an undefined value is an
 * error (a variable set to nil prints nothing), and lists and maps print as
 * JSON. Compiled templates call these through the runtime object, so they
 * are set on it once.
 */
function installRules(): void {
  if (installed) return;
  installed = true;
  nunjucks.installJinjaCompat();
  const runtime = (nunjucks as unknown as { runtime: Runtime }).runtime;
  const TemplateError = nunjucks.lib.TemplateError;
  runtime.ensureDefined = (val, lineno, colno) => {
    if (val === undefined) throw new TemplateError("attempted to output an undefined value", lineno + 1, colno + 1);
    return val;
  };
  runtime.suppressValue = (val) => printed(val);
}

function createEnvironment(): nunjucks.Environment {
  installRules();
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  env.addFilter("next", (v: unknown) => toNumber(v, "next") + 1);
  env.addFilter("prev", (v: unknown) => toNumber(v, "prev") - 1);
  env.addFilter("sh", (v: unknown) => shQuote(plainText(v)));
  env.addFilter("basename", (v: unknown) => String(v).replace(/\/+$/, "").split("/").pop() ?? "");
  env.addFilter("dirname", (v: unknown) => {
    const s = String(v).replace(/\/+$/, "");
    const i = s.lastIndexOf("/");
    return i < 0 ? "." : i === 0 ? "/" : s.slice(0, i);
  });
  env.addFilter("hex", (v: unknown) => Buffer.from(String(v), "utf8").toString("hex"));
  env.addFilter("tojson", (v: unknown) => JSON.stringify(v ?? null));
  env.addFilter("push", (list: unknown, v: unknown) => [...(Array.isArray(list) ? (list as unknown[]) : []), v]);
  // The value of a single `{{ expression }}` (evalTemplate).
  env.addGlobal("__troupe_value", function (this: { ctx: Record<string, unknown> }, v: unknown) {
    (this.ctx as { __troupe_out?: { value: unknown } }).__troupe_out!.value = v;
    return "";
  });
  return env;
}

/** Who is rendering: named in error messages. */
export interface RenderWhere {
  readonly stage?: string;
  readonly job?: string;
  readonly host?: string;
}

const env = createEnvironment();
const compiled = new Map<string, nunjucks.Template>();

/** A node of nunjucks' syntax tree, as far as this module reads it. */
interface Node {
  readonly typename?: string;
  readonly lineno: number;
  readonly colno: number;
  readonly value?: unknown;
  readonly children?: Node[];
  readonly [key: string]: unknown;
}

interface Parsed {
  readonly root: Node;
  readonly refs: readonly VariableRef[];
}
const parsedTrees = new Map<string, Parsed>();

function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size > 5000) cache.clear();
  cache.set(key, value);
  return value;
}

/** Parse (syntax, filters) and list the variables read; cached by text. */
function analyse(tpl: Template, where: RenderWhere): Parsed {
  const known = parsedTrees.get(tpl.text);
  if (known) return known;
  let root: Node;
  try {
    root = (nunjucks as unknown as { parser: { parse(src: string, ext: unknown[], opts: unknown): Node } }).parser.parse(tpl.text, [], {});
  } catch (e) {
    throw templateError(tpl, e, where);
  }
  const refs: VariableRef[] = [];
  walk(root, new Set(), false, refs, (name, node) => {
    if (!filterKnown(name)) {
      throw new TroupeError("E_SCENARIO", templateProblem(tpl, `undefined filter ${name}`, where, node.lineno + 1, node.colno + 1));
    }
  });
  refs.sort((a, b) => a.row - b.row || a.col - b.col);
  return remember(parsedTrees, tpl.text, { root, refs });
}

function filterKnown(name: string): boolean {
  try {
    env.getFilter(name);
    return true;
  } catch {
    return false;
  }
}

function compile(tpl: Template, where: RenderWhere, text = tpl.text): nunjucks.Template {
  let t = compiled.get(text);
  if (!t) {
    try {
      t = new nunjucks.Template(text, env, undefined, true);
    } catch (e) {
      throw templateError(tpl, e, where);
    }
    remember(compiled, text, t);
  }
  return t;
}

/** Whether the text holds any template markup at all. */
export function isTemplated(text: string): boolean {
  return text.includes("{{") || text.includes("{%");
}

function renderWith(tpl: Template, t: nunjucks.Template, scope: object, where: RenderWhere): string {
  try {
    return t.render(scope);
  } catch (e) {
    throw templateError(tpl, e, where, scope);
  }
}

/** Render to text. */
export function renderTemplate(tpl: Template, scope: object, where: RenderWhere = {}): string {
  if (!isTemplated(tpl.text)) return tpl.text;
  analyse(tpl, where);
  return renderWith(tpl, compile(tpl, where), scope, where);
}

const SINGLE_OUTPUT = /^(\s*)\{\{(-?)([\s\S]*?)(-?)\}\}\s*$/;

/**
 * Render to a value: a template that is one `{{ expression }}` gives the
 * expression's value (a list stays a list); anything else gives text.
 */
export function evalTemplate(tpl: Template, scope: object, where: RenderWhere = {}): Value {
  const m = SINGLE_OUTPUT.exec(tpl.text);
  if (m && !m[3]!.includes("}}") && !m[3]!.includes("{%")) {
    analyse(tpl, where);
    // The same text with the expression handed to a function: errors keep their line, and the
    // `{{` their column.
    const wrapped = `${m[1]}{{${m[2]} __troupe_value(${m[3]}) ${m[4]}}}`;
    const out: { value: unknown } = { value: undefined };
    renderWith(tpl, compile(tpl, where, wrapped), { ...scope, __troupe_out: out }, where);
    if (out.value === undefined) {
      // Strict, as when it is printed: say which variable, where.
      const before = m[1]!.split("\n");
      const at = `[Line ${before.length}, Column ${before[before.length - 1]!.length + 1}]`;
      throw templateError(tpl, new Error(`${at} attempted to output an undefined value`), where, scope);
    }
    return toValue(out.value);
  }
  return renderTemplate(tpl, scope, where);
}

function toValue(v: unknown): Value {
  if (v === undefined || v === null) return null;
  if (v instanceof nunjucks.runtime.SafeString) return v.toString();
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map((x) => toValue(x));
  if (typeof v === "object") {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toValue(x);
    return out;
  }
  return plainText(v);
}

/** A variable a template reads: `vars.port` is ["vars", "port"]. */
export interface VariableRef {
  readonly segments: readonly (string | number)[];
  /** 1-based, within the template's text. */
  readonly row: number;
  readonly col: number;
  /** Read where an unset variable is allowed: `| default(...)`, `is defined`, an `if` test. */
  readonly guarded: boolean;
}

/** The variables a template reads from outside (loop and set variables excluded). Throws on syntax errors and unknown filters. */
export function templateVariables(tpl: Template, where: RenderWhere = {}): VariableRef[] {
  if (!isTemplated(tpl.text)) return [];
  return [...analyse(tpl, where).refs];
}

/** `a.b[0]` as segments, if it is a chain of constant lookups on a name. */
function chain(node: Node): { root: Node; segments: (string | number)[] } | undefined {
  if (node.typename === "Symbol") return { root: node, segments: [String(node.value)] };
  if (node.typename === "LookupVal") {
    const inner = chain(node["target"] as Node);
    const val = node["val"] as Node;
    if (!inner) return undefined;
    if (val.typename === "Literal" && (typeof val.value === "string" || typeof val.value === "number"))
      return { root: inner.root, segments: [...inner.segments, val.value] };
    return inner;
  }
  return undefined;
}

const GUARD_TESTS = new Set(["defined", "undefined", "none", "None"]);

function walk(
  node: unknown,
  bound: ReadonlySet<string>,
  guarded: boolean,
  out: VariableRef[],
  onFilter: (name: string, node: Node) => void,
): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const n of node) walk(n, bound, guarded, out, onFilter);
    return;
  }
  const n = node as Node;
  switch (n.typename) {
    case "Symbol":
    case "LookupVal": {
      const c = chain(n);
      if (c) {
        const [root] = c.segments;
        if (typeof root === "string" && !bound.has(root) && !root.startsWith("__troupe")) {
          out.push({ segments: c.segments, row: c.root.lineno + 1, col: c.root.colno + 1, guarded });
        }
        // Computed keys (`vars[item]`) are read too.
        if (n.typename === "LookupVal") {
          let x: Node = n;
          while (x.typename === "LookupVal") {
            const val = x["val"] as Node;
            if (val.typename !== "Literal") walk(val, bound, false, out, onFilter);
            x = x["target"] as Node;
          }
        }
        return;
      }
      break;
    }
    case "Filter": {
      const name = String((n["name"] as Node).value);
      onFilter(name, n["name"] as Node);
      const args = (n["args"] as Node).children ?? [];
      walk(args[0], bound, guarded || name === "default" || name === "d", out, onFilter);
      walk(args.slice(1), bound, guarded, out, onFilter);
      return;
    }
    case "Is": {
      const right = n["right"] as Node;
      const test =
        right.typename === "Symbol" ? String(right.value) : right.typename === "FunCall" ? String((right["name"] as Node).value) : "";
      walk(n["left"], bound, guarded || GUARD_TESTS.has(test), out, onFilter);
      return;
    }
    case "If":
    case "InlineIf": {
      walk(n["cond"], bound, true, out, onFilter);
      walk(n["body"], bound, guarded, out, onFilter);
      walk(n["else_"], bound, guarded, out, onFilter);
      return;
    }
    case "FunCall": {
      // `range(3)`, `cycler(...)`: globals, not variables.
      const name = n["name"] as Node;
      if (name.typename !== "Symbol") walk(name, bound, guarded, out, onFilter);
      walk(n["args"], bound, guarded, out, onFilter);
      return;
    }
    case "For": {
      walk(n["arr"], bound, guarded, out, onFilter);
      const inner = new Set(bound);
      for (const s of names(n["name"] as Node)) inner.add(s);
      inner.add("loop");
      walk(n["body"], inner, guarded, out, onFilter);
      walk(n["else_"], bound, guarded, out, onFilter);
      return;
    }
    case undefined:
      break;
    case "Set": {
      walk(n["value"], bound, guarded, out, onFilter);
      walk(n["body"], bound, guarded, out, onFilter);
      // Later reads of these names are the template's own.
      for (const t of (n["targets"] as Node[]) ?? []) for (const s of names(t)) (bound as Set<string>).add(s);
      return;
    }
  }
  for (const [k, v] of Object.entries(n)) {
    if (k === "typename" || k === "lineno" || k === "colno") continue;
    walk(v, bound, guarded, out, onFilter);
  }
}

function names(node: Node): string[] {
  if (node.typename === "Symbol") return [String(node.value)];
  return (node.children ?? []).flatMap(names);
}

/** Where (row, col) of a template's text is in its file, when it came from one. */
export function templatePos(at: TextPlace | undefined, row: number, col: number): SourcePos | undefined {
  if (!at) return undefined;
  switch (at.style) {
    case "block":
      return { file: at.file, line: at.line + row, col: (at.indent ?? 1) + col - 1 };
    case "quoted":
      return row === 1 ? { file: at.file, line: at.line, col: at.col + col } : { file: at.file, line: at.line + row - 1, col };
    case "plain":
      return row === 1 ? { file: at.file, line: at.line, col: at.col + col - 1 } : { file: at.file, line: at.line + row - 1, col };
  }
}

/** The whole problem: file:line:col, path, who, what, and the template's line. */
export function templateProblem(tpl: Template, message: string, where: RenderWhere, row?: number, col?: number): Problem {
  const pos =
    row !== undefined && col !== undefined
      ? templatePos(tpl.at, row, col)
      : tpl.at
        ? { file: tpl.at.file, line: tpl.at.line, col: tpl.at.col }
        : undefined;
  const who: string[] = [];
  if (where.stage !== undefined) who.push(`stage "${where.stage}"`);
  if (where.job !== undefined) who.push(`job "${where.job}"`);
  if (where.host !== undefined) who.push(`host ${where.host}`);
  const lines = tpl.text.split("\n");
  const line = (row !== undefined ? lines[row - 1] : lines[0]) ?? "";
  const snippet = line.trim().length > 80 ? `${line.trim().slice(0, 77)}...` : line.trim();
  who.push(`template ${JSON.stringify(snippet)}`);
  return { ...(pos ? { pos } : {}), path: formatPath(tpl.path), message: `${who.join(", ")}: ${message}` };
}

/** The first variable read in the `{{ }}` at (row, col) that is not set in `scope`. */
function undefinedAt(tpl: Template, scope: object, row: number, col: number): VariableRef | undefined {
  const parsed = parsedTrees.get(tpl.text);
  if (!parsed) return undefined;
  const lines = tpl.text.split("\n");
  const offset = (r: number, c: number): number => lines.slice(0, r - 1).reduce((n, l) => n + l.length + 1, 0) + c - 1;
  const start = offset(row, col);
  const end = tpl.text.indexOf("}}", start);
  for (const ref of parsed.refs) {
    const at = offset(ref.row, ref.col);
    if (at < start || (end >= 0 && at > end)) continue;
    let v: unknown = scope;
    for (const s of ref.segments) {
      v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[s] : undefined;
      if (v === undefined) return ref;
    }
  }
  return undefined;
}

/** A nunjucks error as a TroupeError (E_SCENARIO) pointing at the spot. */
export function templateError(tpl: Template, err: unknown, where: RenderWhere, scope?: object): TroupeError {
  if (err instanceof TroupeError) return err;
  const raw = errorText(err);
  const m = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const body = raw.replace(/^\(unknown path\)( \[Line \d+, Column \d+\])?\s*/, "").trim();
  let message = (body.split("\n").pop() ?? body).replace(/^Error: /, "").trim();
  let row = m ? Number(m[1]) : undefined;
  let col = m ? Number(m[2]) : undefined;
  const filter = /^filter not found: (\S+)/.exec(message);
  if (filter) message = `undefined filter ${filter[1]}`;
  if (/undefined value/.test(message) && scope && row !== undefined && col !== undefined) {
    const ref = undefinedAt(tpl, scope, row, col);
    if (ref) {
      message = `undefined variable ${ref.segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("")}`;
      row = ref.row;
      col = ref.col;
    }
  }
  return new TroupeError("E_SCENARIO", templateProblem(tpl, message, where, row, col));
}
