// Helpers shared by the builders of each entity (project, backend, system, suite, task).

import type { Cascading, FieldPositions, Hooks } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { readEnvironment } from "./environment.js";
import { validate } from "./issues.js";
import { checkDeltaList } from "./lists.js";
import type { Problems } from "./problems.js";
import { locate, nodeAt, type LNode, type YamlPath } from "./yaml-positions.js";
import type * as z from "zod";
import type { Problem } from "../util/errors.js";

export type Flavour = "troupe" | "spread";

/** One file being read. */
export interface FileCtx {
  readonly file: string;
  readonly root: LNode | undefined;
  readonly flavour: Flavour;
  readonly problems: Problems;
}

export function posAt(ctx: FileCtx, path: YamlPath): SourcePos {
  return locate(ctx.root, path, ctx.file).pos;
}

/** Where the key that ends `path` is (or the value, for a list item). */
export function keyPosAt(ctx: FileCtx, path: YamlPath): SourcePos {
  const at = locate(ctx.root, path, ctx.file);
  return at.keyPos ?? at.pos;
}

/**
 * True when nothing, or a plain scalar, is written at `path`. Used before
 * saying "missing X": a list or map written there is a type error that the
 * schema has already reported.
 */
export function scalarOrAbsent(ctx: FileCtx, path: YamlPath): boolean {
  const node = nodeAt(ctx.root, path, ctx.file);
  return !node || node.kind === "scalar";
}

/** True when `path` holds nothing, or an empty list or map. */
export function emptyAt(ctx: FileCtx, path: YamlPath): boolean {
  const node = nodeAt(ctx.root, path, ctx.file);
  if (!node) return true;
  if (node.kind === "scalar") return node.value === null;
  return node.kind === "seq" ? node.items.length === 0 : node.entries.length === 0;
}

/** Positions of the keys of the map at `path`. */
export function fieldPositions(ctx: FileCtx, path: YamlPath): FieldPositions {
  const node = nodeAt(ctx.root, path, ctx.file);
  const out: Record<string, SourcePos> = {};
  if (node?.kind === "map") for (const e of node.entries) out[e.key] = e.keyPos;
  return out;
}

/**
 * Schema-validate the piece at `path`; its problems are E_SCHEMA. In a
 * spread.yaml (and its task.yaml files) unknown keys are warnings, because
 * Spread ignores them and real Spread projects carry a few.
 */
export function validateAt<T extends z.ZodType>(ctx: FileCtx, schema: T, value: unknown, path: YamlPath): z.output<T> | undefined {
  const found: Problem[] = [];
  const warnings: Problem[] = [];
  const lenient = ctx.flavour === "spread" ? warnings : undefined;
  const data = validate(schema, value, { file: ctx.file, root: ctx.root, path }, found, lenient);
  ctx.problems.addAll("E_SCHEMA", found);
  ctx.problems.warnAll(warnings);
  return data;
}

interface CascadingData {
  readonly variants?: readonly string[] | undefined;
  readonly secrets?: readonly string[] | undefined;
  readonly "warn-timeout"?: number | undefined;
  readonly "kill-timeout"?: number | undefined;
  readonly "deadlock-timeout"?: number | undefined;
  readonly priority?: number | undefined;
  readonly manual?: boolean | undefined;
}

export function cascadingOf(ctx: FileCtx, path: YamlPath, data: CascadingData): Cascading {
  const envPath = [...path, "environment"];
  const environment = readEnvironment(nodeAt(ctx.root, envPath, ctx.file), envPath, (p) => ctx.problems.addAll("E_SCHEMA", [p]));
  checkDeltaList("variants", data.variants, { file: ctx.file, root: ctx.root, path: [...path, "variants"] }, ctx.problems);
  return {
    environment,
    ...(data.secrets ? { secrets: data.secrets } : {}),
    variants: data.variants,
    warnTimeout: data["warn-timeout"],
    killTimeout: data["kill-timeout"],
    deadlockTimeout: data["deadlock-timeout"],
    priority: data.priority,
    manual: data.manual,
  };
}

interface HookData {
  readonly prepare?: string | undefined;
  readonly restore?: string | undefined;
  readonly debug?: string | undefined;
  readonly "prepare-each"?: string | undefined;
  readonly "restore-each"?: string | undefined;
  readonly "debug-each"?: string | undefined;
}

export function hooksOf(data: HookData): Hooks {
  return {
    prepare: data.prepare,
    restore: data.restore,
    debug: data.debug,
    prepareEach: data["prepare-each"],
    restoreEach: data["restore-each"],
    debugEach: data["debug-each"],
  };
}

/** The entries of an optional map value, in file order. */
export function entriesOf(value: unknown): [string, unknown][] {
  return value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
}
