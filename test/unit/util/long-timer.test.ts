import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { useMockedTime } from "../../support/mocked-time.js";
import { clearLongTimer, longTimeoutSignal, MAX_TIMER_MS, setLongInterval, setLongTimeout } from "../../../src/util/long-timer.js";

const HOUR = 3_600_000;

describe("setLongTimeout with real timers", () => {
  it("does not fire at once past 2^31-1 ms, where setTimeout would (Node clamps it to 1 ms)", async () => {
    let fired = false;
    const t = setLongTimeout(() => (fired = true), 700 * HOUR);
    // Timers of equal delay fire in the order they were set: an overflowed
    // timer (clamped to 1 ms) would fire before this one.
    await new Promise((resolve) => setTimeout(resolve, 1));
    t.clear();
    assert.equal(fired, false);
  });

  it("does not keep the process alive once unref'd, and clear is safe twice", () => {
    const t = setLongTimeout(() => assert.fail("cleared"), 700 * HOUR).unref();
    assert.equal(t.hasRef(), false);
    t.ref();
    assert.equal(t.hasRef(), true);
    t.clear();
    t.clear();
    clearLongTimer(undefined);
  });
});

describe("long timers with mocked time", () => {
  // The long timers aim at deadlines on the monotonic clock: it follows the mocked Date.
  useMockedTime();

  it("fires once, after the whole delay, chaining timers no longer than 2^31-1 ms", () => {
    const fake = globalThis.setTimeout;
    const delays: number[] = [];
    const spy = mock.method(globalThis, "setTimeout", (fn: () => void, ms: number) => {
      delays.push(ms);
      return fake(fn, ms);
    });
    let fired = 0;
    setLongTimeout(() => fired++, 720 * HOUR);
    mock.timers.tick(MAX_TIMER_MS);
    assert.equal(fired, 0);
    mock.timers.tick(720 * HOUR - MAX_TIMER_MS - 1);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    assert.equal(fired, 1);
    mock.timers.tick(10 * 720 * HOUR);
    assert.equal(fired, 1);
    spy.mock.restore();
    assert.equal(delays[0], MAX_TIMER_MS);
    assert.ok(delays.length >= 2 && delays.every((d) => d <= MAX_TIMER_MS), String(delays));
  });

  it("fires short delays as setTimeout does", () => {
    let fired = 0;
    setLongTimeout(() => fired++, 50);
    mock.timers.tick(49);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    assert.equal(fired, 1);
  });

  it("never fires once cleared, in any chained step", () => {
    let fired = 0;
    const t = setLongTimeout(() => fired++, 3 * MAX_TIMER_MS);
    mock.timers.tick(MAX_TIMER_MS + 5);
    t.clear();
    mock.timers.tick(10 * MAX_TIMER_MS);
    assert.equal(fired, 0);
  });

  it("an interval fires every period, long or short, until cleared", () => {
    let long = 0;
    let short = 0;
    const l = setLongInterval(() => long++, 700 * HOUR);
    const s = setLongInterval(() => short++, 1000);
    mock.timers.tick(700 * HOUR - 1);
    assert.equal(long, 0);
    mock.timers.tick(1);
    assert.equal(long, 1);
    mock.timers.tick(700 * HOUR);
    assert.equal(long, 2);
    assert.equal(short, (2 * 700 * HOUR) / 1000);
    l.clear();
    s.clear();
    mock.timers.tick(700 * HOUR);
    assert.equal(long, 2);
    assert.equal(short, (2 * 700 * HOUR) / 1000);
  });

  it("an interval cleared from its own callback stops", () => {
    let n = 0;
    const t = setLongInterval(() => {
      n++;
      t.clear();
    }, 3 * MAX_TIMER_MS);
    mock.timers.tick(10 * MAX_TIMER_MS);
    assert.equal(n, 1);
  });

  it("longTimeoutSignal aborts with a TimeoutError after the delay, not before", () => {
    const t = longTimeoutSignal(700 * HOUR);
    mock.timers.tick(700 * HOUR - 1);
    assert.equal(t.signal.aborted, false);
    mock.timers.tick(1);
    assert.equal(t.signal.aborted, true);
    assert.ok(t.signal.reason instanceof DOMException);
    assert.equal(t.signal.reason.name, "TimeoutError");
  });

  it("longTimeoutSignal cleared never aborts", () => {
    const t = longTimeoutSignal(10);
    t.clear();
    mock.timers.tick(100);
    assert.equal(t.signal.aborted, false);
  });
});

describe("delays the timers refuse", () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
    it(`refuses ${bad}: a programming error, not a timer that fires after 1 ms`, () => {
      assert.throws(() => setLongTimeout(() => undefined, bad), RangeError);
      assert.throws(() => setLongInterval(() => undefined, bad), RangeError);
      assert.throws(() => longTimeoutSignal(bad), RangeError);
    });
  }
});
