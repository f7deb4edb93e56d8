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
 * `out`. With `warnings`, unknown keys are not problems but warnings, and are
 * dropped before validating again (a spread.yaml: Spread ignores unknown keys).
 */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  place: Place,
  out: Problem[],
  warnings?: Problem[],
): z.output<T> | undefined {
  const first = schema.safeParse(value);
  if (first.success) return first.data;
  const issues = first.error.issues;
  if (!warnings) {
    for (const issue of issues) out.push(...issueProblems(issue, place, []));
    return undefined;
  }
  const unknown = issues.filter((i) => i.code === "unrecognized_keys");
  const others = issues.filter((i) => i.code !== "unrecognized_keys");
  for (const issue of unknown) {
    for (const p of issueProblems(issue, place, [])) {
      warnings.push({ ...p, message: p.message.replace(/^unknown key '([^']*)'/, "unknown key '$1' is ignored, as Spread ignores it") });
    }
  }
  if (others.length > 0) {
    for (const issue of others) out.push(...issueProblems(issue, place, []));
    return undefined;
  }
  for (const issue of unknown) if (issue.code === "unrecognized_keys") dropKeys(value, issue.path as PathKey[], issue.keys);
  const second = schema.safeParse(value);
  if (second.success) return second.data;
  for (const issue of second.error.issues) out.push(...issueProblems(issue, place, []));
  return undefined;
}

/** Remove `keys` from the object at `path` inside `value` (a fresh plain value of ours). */
function dropKeys(value: unknown, path: readonly PathKey[], keys: readonly string[]): void {
  let target: unknown = value;
  for (const seg of path) {
    if (!target || typeof target !== "object") return;
    target = (target as Record<PathKey, unknown>)[seg];
  }
  if (!target || typeof target !== "object") return;
  for (const key of keys) delete (target as Record<string, unknown>)[key];
}

type Issue = z.core.$ZodIssue;

function issueProblems(issue: Issue, place: Place, prefix: readonly PathKey[]): Problem[] {
  const rel = [...prefix, ...(issue.path as PathKey[])];
  const path = [...place.path, ...rel];
  const at = locate(place.root, path, place.file);
  const here = (message: string): Problem[] => [{ pos: at.pos, path: formatPath(path), message }];
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = issue.message.startsWith(KNOWN_KEYS_MARKER)
        ? issue.message.slice(KNOWN_KEYS_MARKER.length).split("\u0000")
        : [];
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
