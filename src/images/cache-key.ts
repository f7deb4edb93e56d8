// The name of a recipe in the store: a hash of everything that makes the
// image (and of how troupe lays the store out), so that a changed recipe is a
// new entry and an unchanged one is found again.

import { createHash } from "node:crypto";
import type { Recipe } from "./recipe.js";

/** Bumped whenever the steps or the store's layout change in a way the recipe does not show. */
export const STORE_FORMAT = 1;

/** JSON with object keys sorted, so that the same recipe always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The recipe's key: 16 hex digits of a SHA-256 over the store format and the recipe. */
export function cacheKey(recipe: Recipe): string {
  return createHash("sha256")
    .update(canonicalJson({ format: STORE_FORMAT, recipe }))
    .digest("hex")
    .slice(0, 16);
}
