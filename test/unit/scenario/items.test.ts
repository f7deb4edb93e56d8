import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandItems, ItemsError, readItemText, showItem } from "../../../src/scenario/items.js";
import type { ItemPlan, ItemsPlan, Value } from "../../../src/scenario/types.js";

const t = (text: string): ItemPlan => ({ kind: "template", template: { text, path: ["with_items"] } });
const v = (value: Value): ItemPlan => ({ kind: "value", value });
const list = (...items: ItemPlan[]): ItemsPlan => ({ kind: "list", items });

describe("with_items", () => {
  it("runs a job once, with item nil, when there is no with_items", () => {
    assert.deepEqual(expandItems(undefined, {}), [null]);
  });

  it("reads ranges, whole numbers and booleans from text, and keeps other text", () => {
    assert.deepEqual(readItemText("5..9"), [5, 6, 7, 8, 9]);
    assert.deepEqual(readItemText(" -1 .. 1 "), [-1, 0, 1]);
    assert.deepEqual(readItemText("7"), [7]);
    assert.deepEqual(readItemText("true"), [true]);
    assert.deepEqual(readItemText("node-1"), ["node-1"]);
    assert.deepEqual(readItemText("1.5"), ["1.5"]);
    assert.deepEqual(readItemText("5..x"), ["5..x"]);
  });

  it("refuses a range that goes backwards, saying how to write it", () => {
    assert.throws(
      () => readItemText("9..5"),
      (e: unknown) => e instanceof ItemsError && /goes backwards; write 5\.\.9/.test(e.message),
    );
  });

  it("expands a list in order, rendering templates with the scope first", () => {
    const scope = { vars: { n: 3, first: "a" } };
    assert.deepEqual(expandItems(list(t("{{ vars.first }}"), t("1..{{ vars.n }}"), v(42), v({ name: "x" })), scope), [
      "a",
      1,
      2,
      3,
      42,
      { name: "x" },
    ]);
  });

  it("gives the elements of a variable holding a list", () => {
    assert.deepEqual(expandItems(list(t("{{ vars.peers }}"), t("z")), { vars: { peers: ["p1", "p2"] } }), ["p1", "p2", "z"]);
  });

  it("makes products: one list per combination, the last list varying fastest", () => {
    const plan: ItemsPlan = { kind: "product", lists: [[t("a"), t("b")], [t("1..2")]] };
    assert.deepEqual(expandItems(plan, {}), [
      ["a", 1],
      ["a", 2],
      ["b", 1],
      ["b", 2],
    ]);
  });

  it("shows items for reports", () => {
    assert.equal(showItem(null), undefined);
    assert.equal(showItem(5), "5");
    assert.equal(showItem("a"), "a");
    assert.equal(showItem(["a", 1]), "[a, 1]");
  });

  it("reports an undefined variable in an item with the stage and job", () => {
    assert.throws(
      () => expandItems(list(t("{{ vars.nope }}")), { vars: {} }, { stage: "s", job: "j" }),
      /stage "s", job "j", template "\{\{ vars\.nope \}\}": undefined variable vars\.nope/,
    );
  });
});
