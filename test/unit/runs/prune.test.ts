import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAge, planPrune } from "../../../src/runs/prune.js";
import type { RunRecord } from "../../../src/runs/records.js";
import { isTroupeError } from "../../../src/util/errors.js";

const run = (id: string, startTime: string, status = "passed"): RunRecord => ({
  id,
  dir: `/r/${id}`,
  kind: "run",
  status,
  killed: false,
  startTime,
});

const runs = [
  run("20260101-000000-aaaa", "2026-01-01T00:00:00Z"),
  run("20260102-000000-bbbb", "2026-01-02T00:00:00Z", "running"),
  run("20260103-000000-cccc", "2026-01-03T00:00:00Z", "killed"),
  run("20260104-000000-dddd", "2026-01-04T00:00:00Z"),
];

test("--keep N removes all but the N newest; a running run is never removed", () => {
  const plan = planPrune(runs, { keep: 1 }, Date.parse("2026-01-05T00:00:00Z"));
  assert.deepEqual(
    plan.remove.map((r) => r.id),
    ["20260101-000000-aaaa", "20260103-000000-cccc"],
  );
  assert.deepEqual(
    plan.running.map((r) => r.id),
    ["20260102-000000-bbbb"],
  );
  assert.deepEqual(planPrune(runs, { keep: 10 }, 0).remove, []);
});

test("--older-than removes the runs started longer ago", () => {
  const plan = planPrune(runs, { olderThanMs: parseAge("2d") }, Date.parse("2026-01-04T12:00:00Z"));
  assert.deepEqual(
    plan.remove.map((r) => r.id),
    ["20260101-000000-aaaa"],
  );
  assert.deepEqual(
    plan.running.map((r) => r.id),
    ["20260102-000000-bbbb"],
  );
});

test("ages: days and weeks as well as Go's units", () => {
  assert.equal(parseAge("7d"), 7 * 86_400_000);
  assert.equal(parseAge("1w"), 7 * 86_400_000);
  assert.equal(parseAge("1d12h"), 36 * 3_600_000);
  assert.equal(parseAge("90m"), 90 * 60_000);
  assert.equal(parseAge("0s"), 0);
  for (const bad of ["", "soon", "d", "-1", "7x"]) {
    assert.throws(
      () => parseAge(bad),
      (e: unknown) => isTroupeError(e) && e.code === "E_USAGE",
      bad,
    );
  }
});
