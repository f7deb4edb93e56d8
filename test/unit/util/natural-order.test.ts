import assert from "node:assert/strict";
import { test } from "node:test";
import { naturalCompare } from "../../../src/util/natural-order.js";

test("digit runs compare by value, the rest by character", () => {
  const names = ["node10", "node2", "node1", "web-3", "node01", "node", "node2a", "node2b", "a10b2", "a10b10", "a9"];
  assert.deepEqual([...names].sort(naturalCompare), [
    "a9",
    "a10b2",
    "a10b10",
    "node",
    "node1",
    "node01",
    "node2",
    "node2a",
    "node2b",
    "node10",
    "web-3",
  ]);
});

test("numbers longer than a double holds keep their order", () => {
  assert.ok(naturalCompare("h99999999999999999999", "h100000000000000000000") < 0);
  assert.ok(naturalCompare("h100000000000000000001", "h100000000000000000000") > 0);
});

test("agrees with ICU's numeric collation on host names", () => {
  const icu = new Intl.Collator("en", { numeric: true });
  const names: string[] = [];
  for (let i = 0; i < 300; i++) names.push(`lab-${i}`, `bench-${i % 17}`, `n${i}.example.com`);
  assert.deepEqual(
    [...names].sort(naturalCompare),
    [...names].sort((a, b) => icu.compare(a, b)),
  );
  assert.equal(naturalCompare("same", "same"), 0);
});
