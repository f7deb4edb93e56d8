// Keys written twice in one map. yaml.v2 lets the last one win silently, so
// in a spread.yaml this is a warning (the last one is used, as in Spread); in
// troupe.yaml it is an error. Environment maps are left to environment.ts:
// there, Spread itself refuses duplicates.

import type { FileCtx } from "./entity.js";
import type { LNode, PathKey, YamlPath } from "./yaml-positions.js";

export function checkDuplicateKeys(ctx: FileCtx): void {
  walk(ctx, ctx.root, []);
}

function walk(ctx: FileCtx, node: LNode | undefined, path: YamlPath): void {
  if (!node) return;
  if (node.kind === "seq") {
    node.items.forEach((item, i) => walk(ctx, item, [...path, i]));
    return;
  }
  if (node.kind !== "map") return;
  if (!isEnvironmentPath(path)) {
    const first = new Map<string, number>();
    for (const e of node.entries) {
      const line = first.get(e.key);
      if (line === undefined) {
        first.set(e.key, e.keyPos.line);
        continue;
      }
      const keyPath = [...path, e.key];
      if (ctx.flavour === "spread") {
        ctx.problems.warn(e.keyPos, keyPath, `key '${e.key}' is given twice (first at line ${line}); the last one is used, as in Spread`);
      } else {
        ctx.problems.add("E_SCHEMA", e.keyPos, keyPath, `key '${e.key}' is given twice (first at line ${line}); keep one`);
      }
    }
  }
  for (const e of node.entries) walk(ctx, e.value, [...path, e.key]);
}

/** `environment` of the project or task, a backend, a system (map form) or a suite. */
function isEnvironmentPath(path: readonly PathKey[]): boolean {
  if (path[path.length - 1] !== "environment") return false;
  if (path.length === 1) return true;
  if (path[0] === "backends") return path.length === 3 || (path.length === 6 && path[2] === "systems");
  return path[0] === "suites" && path.length === 3;
}
