// Schema validation with positioned, readable problems: zod's issues turned
// into `file:line:col: path: what is wrong; what to do`.

import type * as z from "zod";
import type { Problem } from "../util/errors.js";
import { KNOWN_KEYS_MARKER } from "./schema/common.js";
import { unknownKeyHint } from "./suggest.js";
import { formatPath, locate, type LNode, type PathKey, type YamlPath } from "./yaml-positions.js";

/** Where a piece of a file is: the file's tree and the path of the piece in it. */
export interface Place {
  readonly file: string;
  readonly root: LNode | undefined;
  readonly path: YamlPath;
}

/**
 * Validate `value` (the plain form of the node at `place`); problems go to
 * `out`. With `warnings`, unknown keys are not problems but warnings (a
 * spread.yaml: Spread ignores unknown keys).
 *
 * When there are problems, the offending keys are dropped and the rest is
 * validated again, so that the caller can go on checking what is left and
 * report everything in one go. The data returned is then partial: the caller
 * must not use it for anything but further checks (the problems already
 * recorded make the load fail). Undefined when nothing could be salvaged.
 */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  place: Place,
  out: Problem[],
  warnings?: Problem[],
): z.output<T> | undefined {
  for (let round = 0; round < 4; round++) {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues;
    if (round === 0) report(issues, place, out, warnings);
    for (const issue of issues) if (!salvage(value, issue)) return undefined;
  }
  return undefined;
}

function report(issues: readonly Issue[], place: Place, out: Problem[], warnings: Problem[] | undefined): void {
  for (const issue of issues) {
    const problems = issueProblems(issue, place, []);
    if (warnings && issue.code === "unrecognized_keys") {
      for (const p of problems) {
        const message = p.message
          .replace(/^unknown key '([^']*)'/, "unknown key '$1' is ignored, as Spread ignores it")
          .replace(/; allowed here: .*$/, "");
        warnings.push({ ...p, message });
      }
    } else {
      out.push(...problems);
    }
  }
}

/**
 * Remove what `issue` complains about from `value` (a fresh plain value of
 * ours): the unknown keys, or the key holding the bad value (the whole list,
 * when the bad value is inside a list). False when the issue is about the
 * value itself.
 */
function salvage(value: unknown, issue: Issue): boolean {
  const path = issue.path as PathKey[];
  if (issue.code === "unrecognized_keys") {
    const target = walk(value, path);
    if (!isObject(target)) return false;
    for (const key of issue.keys) delete target[key];
    return true;
  }
  const cut = path.findIndex((seg) => typeof seg === "number");
  const keyPath = cut === -1 ? path : path.slice(0, cut);
  const last = keyPath[keyPath.length - 1];
  if (last === undefined) return false;
  const parent = walk(value, keyPath.slice(0, -1));
  if (!isObject(parent)) return false;
  delete parent[last];
  return true;
}

function walk(value: unknown, path: readonly PathKey[]): unknown {
  let target = value;
  for (const seg of path) {
    if (!isObject(target) && !Array.isArray(target)) return undefined;
    target = (target as Record<PathKey, unknown>)[seg];
  }
  return target;
}

function isObject(v: unknown): v is Record<PathKey, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

type Issue = z.core.$ZodIssue;

function issueProblems(issue: Issue, place: Place, prefix: readonly PathKey[]): Problem[] {
  const rel = [...prefix, ...(issue.path as PathKey[])];
  const path = [...place.path, ...rel];
  const at = locate(place.root, path, place.file);
  const here = (message: string): Problem[] => [{ pos: at.pos, path: formatPath(path), message }];
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = issue.message.startsWith(KNOWN_KEYS_MARKER) ? issue.message.slice(KNOWN_KEYS_MARKER.length).split("\u0000") : [];
      return issue.keys.map((key) => {
        const keyAt = locate(place.root, [...path, key], place.file);
        return {
          pos: keyAt.keyPos ?? keyAt.pos,
          path: formatPath([...path, key]),
          message: `unknown key '${key}'; ${unknownKeyHint(key, known)}`,
        };
      });
    }
    case "invalid_type":
      return here(`must be ${expectedText(issue.expected)}, not ${describeNode(at.node, at.keyPos !== undefined)}`);
    case "invalid_union":
      return unionProblems(issue, place, rel, at.node, at.keyPos !== undefined, here);
    case "invalid_value":
      return here(`must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`);
    default:
      return here(issue.message);
  }
}

/**
 * A union failed (text or map, for example). When exactly one alternative has
 * the right shape, its own problems are the useful ones; otherwise say what
 * shapes are allowed.
 */
function unionProblems(
  issue: Extract<Issue, { code: "invalid_union" }>,
  place: Place,
  rel: readonly PathKey[],
  node: LNode | undefined,
  present: boolean,
  here: (message: string) => Problem[],
): Problem[] {
  const wrongShape = (branch: readonly Issue[]): boolean =>
    branch.length === 1 && branch[0]?.code === "invalid_type" && branch[0].path.length === 0;
  const fitting = issue.errors.filter((b) => !wrongShape(b));
  if (fitting.length === 1 && fitting[0]) return fitting[0].flatMap((i) => issueProblems(i, place, rel));
  const expected = issue.errors
    .flatMap((b) => (b[0]?.code === "invalid_type" ? [expectedText(b[0].expected)] : []))
    .filter((v, i, all) => all.indexOf(v) === i);
  // Text fields also take numbers and booleans (as yaml.v2 does); "text" says it.
  if (expected.includes("text"))
    expected.splice(0, expected.length, "text", ...expected.filter((e) => e.startsWith("a list") || e.startsWith("a map")));
  const shapes = expected.length > 0 ? expected.join(" or ") : "something else";
  return here(`must be ${shapes}, not ${describeNode(node, present)}`);
}

function expectedText(expected: string): string {
  switch (expected) {
    case "string":
      return "text";
    case "number":
      return "a number";
    case "int":
      return "a whole number";
    case "boolean":
      return "true or false";
    case "array":
      return "a list (items starting with '- ')";
    case "object":
    case "record":
      return "a map (key: value lines)";
    default:
      return expected;
  }
}

function describeNode(node: LNode | undefined, present: boolean): string {
  if (!node) return present ? "empty" : "missing";
  switch (node.kind) {
    case "map":
      return "a map";
    case "seq":
      return "a list";
    case "scalar":
      if (node.value === null) return "empty";
      if (typeof node.value === "string") return `the text ${JSON.stringify(short(node.value))}`;
      if (typeof node.value === "number") return `the number ${node.text}`;
      return node.text;
  }
}

function short(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 40 ? `${line.slice(0, 37)}...` : line;
}
