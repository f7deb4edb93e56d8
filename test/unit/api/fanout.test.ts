import { test } from "node:test";
import assert from "node:assert/strict";
import { collate } from "../../../src/api/fanout.js";

test("collate groups identical outputs, hosts in natural order, largest group first", () => {
  const groups = collate([
    { name: "n10", exitCode: 0, output: "a\n" },
    { name: "n2", exitCode: 0, output: "a\n" },
    { name: "n1", exitCode: 1, output: "b\n" },
    { name: "n3", exitCode: 0, output: "a\n" },
  ]);
  assert.deepEqual(groups, [
    { hosts: ["n2", "n3", "n10"], output: "a\n" },
    { hosts: ["n1"], output: "b\n" },
  ]);
});
