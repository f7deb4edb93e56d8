import { test } from "node:test";
import assert from "node:assert/strict";
import { addSecret, clearSecrets, redact, redactDeep } from "../../../src/secrets/registry.js";
import { EventStream, type TroupeEvent } from "../../../src/report/events.js";

test("every event, as every listener gets it, has the secrets known by then hidden", () => {
  clearSecrets();
  const events = new EventStream();
  const got: TroupeEvent[] = [];
  events.on((e) => got.push(e));
  events.message("info", "before: hunter22");
  addSecret("hunter22\n");
  addSecret("ab"); // too short to hide
  events.message("info", "after: hunter22 ab");
  events.emit({ type: "run-finished", passed: ["hunter22"], failed: [], aborted: [], failedHooks: [], interrupted: false } as never);
  assert.deepEqual(
    got.map((e) => ("text" in e ? e.text : (e as unknown as { passed: string[] }).passed[0])),
    ["before: hunter22", "after: *** ab", "***"],
  );
  const plain = { a: "nothing", b: ["secret-free"] };
  assert.equal(redactDeep(plain), plain, "an event without secrets is not copied");
  assert.equal(redact("x hunter22 y"), "x *** y");
  clearSecrets();
});
