import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration } from "../../../src/config/duration.js";
import { duration } from "../../../src/config/schema/common.js";

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

  it("reads long timeouts, up to Go's longest duration (2562047h, as Spread)", () => {
    assert.equal(parseDuration("720h"), 720 * 3_600_000);
    assert.equal(parseDuration("2562047h"), 2562047 * 3_600_000);
  });

  it("refuses longer ones, and numbers too large to be finite", () => {
    for (const bad of ["2562048h", "9999999999h", `1${"0".repeat(400)}h`, `1${"0".repeat(400)}.5s`]) {
      assert.equal(parseDuration(bad), undefined, bad);
      const r = duration.safeParse(bad);
      assert.equal(r.success, false);
      assert.match(
        r.error?.issues[0]?.message ?? "",
        /is too long; the longest duration is 2562047h \(Go's, as in Spread\); use -1 for no timeout/,
        bad,
      );
    }
  });
});
