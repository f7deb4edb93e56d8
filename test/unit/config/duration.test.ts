import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration } from "../../../src/config/duration.js";

describe("parseDuration (Go's time.ParseDuration, in ms)", () => {
  it("reads single units", () => {
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("10m"), 600_000);
    assert.equal(parseDuration("2h"), 7_200_000);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("1500us"), 1.5);
    assert.equal(parseDuration("2000000ns"), 2);
    assert.equal(parseDuration("3\u00b5s"), 0.003);
  });

  it("reads fractions and sums of units", () => {
    assert.equal(parseDuration("1.5h"), 5_400_000);
    assert.equal(parseDuration(".5m"), 30_000);
    assert.equal(parseDuration("1.m"), 60_000);
    assert.equal(parseDuration("1m30s"), 90_000);
    assert.equal(parseDuration("1h2m3s4ms"), 3_723_004);
    assert.equal(parseDuration("  45s "), 45_000);
  });

  it("reads 0 and troupe's -1 (no timeout), as text or as numbers", () => {
    assert.equal(parseDuration("0"), 0);
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration("-1"), -1);
    assert.equal(parseDuration(-1), -1);
    assert.equal(parseDuration("+0"), 0);
  });

  it("reads Spread's no-timeout, the Go duration -1 (-1ns), as -1", () => {
    assert.equal(parseDuration("-1ns"), -1);
    assert.equal(parseDuration(" -1ns "), -1);
    assert.equal(parseDuration("-0.001us"), -1);
    assert.equal(parseDuration("-2ns"), undefined);
  });

  it("refuses what is not a duration", () => {
    for (const bad of ["", "30", "10 minutes", "1h30", "s", ".s", "1d", "-5s", "1.5.2h", "forever", "1H"]) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
    assert.equal(parseDuration(30), undefined);
    assert.equal(parseDuration(-2), undefined);
  });
});
