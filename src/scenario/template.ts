// Templates: Liquid (liquidjs), strict. `{{ vars.x }}`, `{{ host.name }}`,
// `{{ host.addr }}`, `{{ item }}`, `{{ re[1] }}`, Liquid's own filters and
// tags, and a few of troupe's filters:
//
//   next / prev     a number plus / minus one (`{{ re[1] | next }}`)
//   sh              quote for the shell (`echo {{ item | sh }}`)
//   basename / dirname / hex
//
// An undefined variable or filter is an error that names the stage, the job,
// the template and, when it came from a file, the file:line:col of the spot.
// `{% if vars.x %}` and `| default:` may test a variable that is not set.
// Lists and maps print as JSON; nil as nothing.

import { analyzeSync, Drop, Liquid, type Template as LiquidTemplate } from "liquidjs";
import type { SourcePos } from "../model/position.js";
import { formatPath } from "../config/yaml-positions.js";
import { plainText } from "../util/text.js";
import { TroupeError, type Problem } from "../util/errors.js";
import type { Template, TextPlace, Value } from "./types.js";
import { errorText } from "../util/text.js";

/** The names a template may start with. */
export const TEMPLATE_ROOTS = ["vars", "host", "hosts", "item", "re", "res", "run", "stage", "job", "scenario", "prometheus"] as const;

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function toNumber(v: unknown, filter: string): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (String(v).trim() === "" || !Number.isFinite(n)) throw new Error(`${filter} needs a number, not ${JSON.stringify(v)}`);
  return n;
}

function plain(v: unknown): unknown {
  return v instanceof Drop ? v.valueOf() : v;
}

export function createEngine(): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    // Values go into shell scripts and URLs: lists and maps as JSON, nil as nothing.
    outputEscape: (v: unknown) => {
      const p = plain(v);
      if (p === null || p === undefined) return "";
      return plainText(p);
    },
  });
  liquid.registerFilter("next", (v: unknown) => toNumber(v, "next") + 1);
  liquid.registerFilter("prev", (v: unknown) => toNumber(v, "prev") - 1);
  liquid.registerFilter("sh", (v: unknown) => shQuote(plainText(v)));
  liquid.registerFilter("basename", (v: unknown) => String(v).replace(/\/+$/, "").split("/").pop() ?? "");
  liquid.registerFilter("dirname", (v: unknown) => {
    const s = String(v).replace(/\/+$/, "");
    const i = s.lastIndexOf("/");
    return i < 0 ? "." : i === 0 ? "/" : s.slice(0, i);
  });
  liquid.registerFilter("hex", (v: unknown) => Buffer.from(String(v), "utf8").toString("hex"));
  return liquid;
}

/** Who is rendering: named in error messages. */
export interface RenderWhere {
  readonly stage?: string;
  readonly job?: string;
  readonly host?: string;
}

const engine = createEngine();
const parsed = new Map<string, LiquidTemplate[]>();

function parse(tpl: Template, where: RenderWhere): LiquidTemplate[] {
  let t = parsed.get(tpl.text);
  if (!t) {
    try {
      t = engine.parse(tpl.text);
    } catch (e) {
      throw templateError(tpl, e, where);
    }
    if (parsed.size > 5000) parsed.clear();
    parsed.set(tpl.text, t);
  }
  return t;
}

/** Whether the text holds any Liquid markup at all. */
export function isTemplated(text: string): boolean {
  return text.includes("{{") || text.includes("{%");
}

/** Render to text. */
export function renderTemplate(tpl: Template, scope: object, where: RenderWhere = {}): string {
  if (!isTemplated(tpl.text)) return tpl.text;
  const t = parse(tpl, where);
  try {
    return String(engine.renderSync(t, scope));
  } catch (e) {
    throw templateError(tpl, e, where);
  }
}

const SINGLE_OUTPUT = /^\s*\{\{-?([\s\S]*?)-?\}\}\s*$/;

/**
 * Render to a value: a template that is one `{{ expression }}` gives the
 * expression's value (a list stays a list); anything else gives text.
 */
export function evalTemplate(tpl: Template, scope: object, where: RenderWhere = {}): Value {
  const m = SINGLE_OUTPUT.exec(tpl.text);
  if (m && !m[1]!.includes("}}")) {
    parse(tpl, where);
    try {
      return toValue(plain(engine.evalValueSync(m[1]!, scope)));
    } catch (e) {
      throw templateError(tpl, e, where);
    }
  }
  return renderTemplate(tpl, scope, where);
}

function toValue(v: unknown): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map((x) => toValue(plain(x)));
  if (typeof v === "object") {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toValue(plain(x));
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
}

/** The variables a template reads from outside (loop variables excluded). Throws on syntax errors. */
export function templateVariables(tpl: Template, where: RenderWhere = {}): VariableRef[] {
  if (!isTemplated(tpl.text)) return [];
  const t = parse(tpl, where);
  const out: VariableRef[] = [];
  const analysis = analyzeSync(t);
  for (const refs of Object.values(analysis.globals)) {
    for (const v of refs) {
      const segments = v.segments.map((s) => (typeof s === "number" ? s : String(s)));
      out.push({ segments, row: v.location.row, col: v.location.col });
    }
  }
  return out.sort((a, b) => a.row - b.row || a.col - b.col);
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

/** A Liquid error as a TroupeError (E_SCENARIO) pointing at the spot. */
export function templateError(tpl: Template, err: unknown, where: RenderWhere): TroupeError {
  const raw = errorText(err);
  const first = raw.split("\n")[0] ?? raw;
  const m = /, line:(\d+), col:(\d+)\s*$/.exec(first);
  const message = (m ? first.slice(0, m.index) : first)
    .replace(/^undefined variable: /, "undefined variable ")
    .replace(/^undefined filter: /, "undefined filter ");
  return new TroupeError("E_SCENARIO", templateProblem(tpl, message, where, m ? Number(m[1]) : undefined, m ? Number(m[2]) : undefined));
}
