// Global variables, as in Octogram: each job takes a copy of them when it
// starts (its templates see that copy, whatever other hosts do meanwhile);
// when one of its steps (a host, an item) ends well, its `vars_updates` are
// applied, in order, to the latest variables. An update's key and value are
// templates that also see `res`, the step's result:
//
//   res.status   the exit status            res.stdout  stdout, trailing newlines cut
//   res.stderr   stderr, the same           res.lines   stdout's lines
//   res.json     stdout read as JSON        res.value   what a `call` job returned
//   res.endpoint a service's endpoint
//
// `as:` reads the rendered value: string (default), int, bool, or json. A
// key with no value (null) removes the variable. Pure, apart from rendering.

import { TroupeError } from "../util/errors.js";
import { evalTemplate, renderTemplate, templateProblem, type RenderWhere } from "./template.js";
import type { Value, VarUpdatePlan } from "./types.js";

export type Vars = Record<string, Value>;

/** The copy a job works with. */
export function snapshot(vars: Readonly<Vars>): Vars {
  return structuredClone(vars);
}

export interface StepOutput {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly value?: Value;
  readonly endpoint?: string;
  /** What a plugin job returned: its fields are `res.NAME` (Octogram's results). */
  readonly fields?: Readonly<Record<string, Value>>;
}

/** `res` for templates; `res.json` is parsed when first read, and says clearly when stdout is not JSON. */
export function stepResult(out: StepOutput): Record<string, unknown> {
  const stdout = out.stdout.replace(/\n+$/, "");
  const res: Record<string, unknown> = {
    status: out.status,
    stdout,
    stderr: out.stderr.replace(/\n+$/, ""),
    lines: stdout === "" ? [] : stdout.split("\n"),
    value: out.value ?? null,
    endpoint: out.endpoint ?? null,
    ...out.fields,
  };
  let parsed: { value: unknown } | undefined;
  Object.defineProperty(res, "json", {
    enumerable: true,
    get() {
      if (!parsed) {
        if (out.value !== undefined) parsed = { value: out.value };
        else {
          try {
            parsed = { value: JSON.parse(stdout) as unknown };
          } catch {
            const shown = stdout.length > 60 ? `${stdout.slice(0, 57)}...` : stdout;
            throw new Error(`res.json: the job's stdout is not JSON: ${JSON.stringify(shown)}`);
          }
        }
      }
      return parsed.value;
    },
  });
  return res;
}

/** Read a rendered value as `as` says. */
export function castValue(raw: Value, as: VarUpdatePlan["as"]): Value {
  const text = typeof raw === "string" ? raw : JSON.stringify(raw);
  switch (as) {
    case "string":
      return typeof raw === "string" ? raw : raw === null ? "" : typeof raw === "object" ? JSON.stringify(raw) : String(raw);
    case "int": {
      const t = text.trim();
      if (!/^[-+]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new Error(`${JSON.stringify(text)} is not a whole number`);
      return Number(t);
    }
    case "bool": {
      const t = text.trim().toLowerCase();
      if (t === "true") return true;
      if (t === "false") return false;
      throw new Error(`${JSON.stringify(text)} is not true or false`);
    }
    case "json":
      if (typeof raw !== "string") return raw;
      try {
        return JSON.parse(raw) as Value;
      } catch {
        throw new Error(`${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)} is not JSON`);
      }
  }
}

/**
 * Apply `updates` to `vars` (changed in place, which is the point: the
 * latest variables are shared). `scope` is the step's template scope
 * without vars; each update sees the variables as the previous ones left
 * them. Returns what changed (null for a removal).
 */
export function applyUpdates(
  vars: Vars,
  updates: readonly VarUpdatePlan[],
  scope: Readonly<Record<string, unknown>>,
  where: RenderWhere,
  /** Applied to rendered text values before they are read (HOST://SERVICE -> endpoint). */
  resolve: (text: string) => string = (t) => t,
): Record<string, Value> {
  const changes: Record<string, Value> = {};
  for (const u of updates) {
    const full = { ...scope, vars };
    const key = renderTemplate(u.key, full, where).trim();
    if (key === "") throw new TroupeError("E_SCENARIO", templateProblem(u.key, "a vars_updates key renders empty", where));
    if (u.value === undefined) {
      delete vars[key];
      changes[key] = null;
      continue;
    }
    let value: Value;
    try {
      const rendered = u.as === "string" ? renderTemplate(u.value, full, where) : evalTemplate(u.value, full, where);
      const raw = typeof rendered === "string" ? resolve(rendered) : rendered;
      value = castValue(raw, u.as);
    } catch (e) {
      if (e instanceof TroupeError) throw e;
      throw new TroupeError("E_SCENARIO", templateProblem(u.value, `vars_updates.${key} (as ${u.as}): ${(e as Error).message}`, where));
    }
    vars[key] = value;
    changes[key] = value;
  }
  return changes;
}
