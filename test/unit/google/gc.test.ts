// Which instances `troupe gc` deletes: troupe's, past their halt time, or
// made by a troupe process of this machine that is gone; never one
// without troupe's labels, nor one of a troupe elsewhere before its halt time.

import { test } from "node:test";
import assert from "node:assert/strict";
import { googleLeftovers } from "../../../src/backends/google/gc.js";
import { machineId } from "../../../src/backends/cloud/owner.js";
import { bootId } from "../../../src/gc/owner.js";

const NOW = new Date("2026-12-07T18:00:00Z");
const at = (d: Date): string => String(Math.floor(d.getTime() / 1000));

test("past its halt time: deleted, whoever made it", () => {
  const out = googleLeftovers(
    "p",
    [
      {
        name: "a",
        zone: "https://x/zones/us-east1-b",
        labels: { troupe: "1", "troupe-run": "r1", "troupe-halt-at": at(new Date(NOW.getTime() - 1000)) },
      },
    ],
    false,
    NOW,
  );
  assert.deepEqual(
    out.map((l) => [l.id, l.name, l.run]),
    [["p/us-east1-b/a", "a (p/us-east1-b)", "r1"]],
  );
  assert.match(out[0]!.reason, /halt time .* has passed/);
});

test("no troupe label: never", () => {
  assert.deepEqual(googleLeftovers("p", [{ name: "a", labels: { spread: "true" } }], true, NOW), []);
});

test("a troupe of another machine (or before a reboot) before the halt time: kept; --all takes it", () => {
  const labels = { troupe: "1", "troupe-process": "1_1_0123456789abcdef", "troupe-halt-at": at(new Date(NOW.getTime() + 60_000)) };
  assert.deepEqual(googleLeftovers("p", [{ name: "a", labels }], false, NOW), []);
  assert.equal(googleLeftovers("p", [{ name: "a", labels }], true, NOW).length, 1);
});

test("a troupe process of this boot that is gone: deleted", () => {
  const labels = {
    troupe: "1",
    "troupe-process": `999999999_1_${bootId()}`,
    "troupe-machine": machineId(),
    "troupe-halt-at": at(new Date(NOW.getTime() + 60_000)),
  };
  const out = googleLeftovers("p", [{ name: "a", labels }], false, NOW);
  assert.equal(out.length, 1);
  assert.match(out[0]!.reason, /troupe process 999999999 .* is gone/);
});
