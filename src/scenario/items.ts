// `with_items`: the values a job runs once for, each as `{{ item }}`.
//
//   with_items: 3                      one item
//   with_items: [a, b, "5..9"]         a list; "5..9" is 5, 6, 7, 8, 9
//   with_items: "{{ vars.peers }}"     a variable holding a list: its elements
//   with_items: {product: [[a, b], "1..2"]}   [a,1] [a,2] [b,1] [b,2]: item[0], item[1]
//
// Text items are templates (vars, host, re; not item), rendered first; then
// `A..B` is a range of whole numbers, whole numbers and true/false are read
// as such, and anything else stays text. Maps and lists written in the file
// are kept as they are (`item.name`). Pure, apart from rendering.

import type { ItemPlan, ItemsPlan, Value } from "./types.js";
import { evalTemplate, type RenderWhere } from "./template.js";

/** Ranges longer than this are almost certainly a typo. */
export const MAX_ITEMS = 100_000;

export class ItemsError extends Error {}

const RANGE = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/;

/** Read one rendered text item: a range gives several. */
export function readItemText(text: string): Value[] {
  const range = RANGE.exec(text);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (to < from) throw new ItemsError(`range "${text.trim()}" goes backwards; write ${to}..${from}`);
    if (to - from + 1 > MAX_ITEMS) throw new ItemsError(`range "${text.trim()}" has more than ${MAX_ITEMS} items`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }
  const t = text.trim();
  if (/^-?\d+$/.test(t) && Number.isSafeInteger(Number(t))) return [Number(t)];
  if (t === "true") return [true];
  if (t === "false") return [false];
  return [text];
}

function expandOne(item: ItemPlan, scope: object, where: RenderWhere): Value[] {
  if (item.kind === "value") return [item.value];
  const v = evalTemplate(item.template, scope, where);
  // A variable holding a list gives its elements.
  if (Array.isArray(v)) return [...(v as readonly Value[])];
  if (typeof v === "string") return readItemText(v);
  return [v];
}

function expandList(items: readonly ItemPlan[], scope: object, where: RenderWhere): Value[] {
  const out: Value[] = [];
  for (const item of items) {
    out.push(...expandOne(item, scope, where));
    if (out.length > MAX_ITEMS) throw new ItemsError(`more than ${MAX_ITEMS} items`);
  }
  return out;
}

/** All items, in order; `[null]` when the job has no with_items (it runs once, item is nil). */
export function expandItems(plan: ItemsPlan | undefined, scope: object, where: RenderWhere = {}): Value[] {
  if (!plan) return [null];
  if (plan.kind === "list") return expandList(plan.items, scope, where);
  let rows: Value[][] = [[]];
  for (const list of plan.lists) {
    const values = expandList(list, scope, where);
    if (rows.length * values.length > MAX_ITEMS) throw new ItemsError(`the product has more than ${MAX_ITEMS} items`);
    const next: Value[][] = [];
    for (const row of rows) for (const v of values) next.push([...row, v]);
    rows = next;
  }
  return rows;
}

/** An item as shown in reports: `5`, `a`, `[a, 1]`, or undefined for no item. */
export function showItem(item: Value): string | undefined {
  if (item === null) return undefined;
  if (typeof item === "string") return item;
  if (isList(item)) return `[${item.map((x) => showItem(x) ?? "nil").join(", ")}]`;
  return JSON.stringify(item);
}

/** Array.isArray, keeping the element type of a readonly list. */
function isList(v: Value): v is readonly Value[] {
  return Array.isArray(v);
}
