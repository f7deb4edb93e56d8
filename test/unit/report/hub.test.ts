import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { EventStream } from "../../../src/report/events.js";
import { ReporterHub } from "../../../src/report/hub.js";
import type { Reporter } from "../../../src/report/reporter.js";

/** A reporter that writes down what it is told, in order. */
function recorder(): { reporter: Reporter; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    reporter: {
      onMessage: (e) => void seen.push(`message ${e.text}`),
      finish: async () => void seen.push("finish"),
    },
  };
}

test("a batching hub hands events over in order once the event loop turns, and finish hands over what is left first", async () => {
  const events = new EventStream();
  const { reporter, seen } = recorder();
  const hub = new ReporterHub([reporter], { batch: true }).attach(events);
  events.message("info", "one");
  events.message("info", "two");
  assert.deepEqual(seen, [], "nothing before the turn ends");
  await nextTurn();
  assert.deepEqual(seen, ["message one", "message two"]);
  events.message("info", "three");
  await hub.finish();
  assert.deepEqual(seen, ["message one", "message two", "message three", "finish"]);
  events.message("info", "after");
  await nextTurn();
  assert.equal(seen.length, 4, "nothing after finish");
});

test("a hub made without batch hands each event over as it is emitted", () => {
  const events = new EventStream();
  const { reporter, seen } = recorder();
  new ReporterHub([reporter]).attach(events);
  events.message("info", "now");
  assert.deepEqual(seen, ["message now"]);
});
