// Issue 12: `troupe-ctl barrier --timeout 700h` failed after 1 ms, because
// Node's timers clamp delays past 2^31-1 ms to 1 ms.

import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { runCommand, type CommandContext } from "../../../src/sync/commands.js";
import { parseDuration } from "../../../src/sync/duration.js";
import { SyncError, SYNC_EXIT } from "../../../src/sync/errors.js";
import type { LockGrant } from "../../../src/sync/locks.js";
import { SyncService } from "../../../src/sync/service.js";
import { SyncClient } from "../../../src/sync/client.js";
import { MAX_TIMER_MS } from "../../../src/util/long-timer.js";
import { useMockedTime } from "../../support/mocked-time.js";

const HOUR = 3_600_000;

function service(): SyncService {
  return new SyncService({
    hosts: [
      { name: "server", role: "server", address: "10.0.0.1" },
      { name: "client", role: "client", address: "10.0.0.2" },
    ],
  });
}

/** Whether `p` has settled once pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe("troupe-ctl durations", () => {
  it("reads hundreds of hours", () => {
    assert.equal(parseDuration("700h"), 700 * HOUR);
    assert.equal(parseDuration("2520000"), 700 * HOUR);
  });

  it("refuses numbers too large to be a duration, instead of waiting Infinity (1 ms)", () => {
    for (const bad of [`1${"0".repeat(400)}`, `1${"0".repeat(400)}h`]) {
      assert.throws(
        () => parseDuration(bad),
        (e) => e instanceof SyncError && e.kind === "usage" && /too large/.test(e.message),
        bad,
      );
    }
  });
});

describe("waits with timeouts past 2^31-1 ms", () => {
  useMockedTime();

  it("a barrier with --timeout 700h waits 700 hours, not 1 ms", async () => {
    let seq = 0;
    const grants = new Map<string, LockGrant>();
    const ctx: CommandContext = { service: service(), caller: "server", requestId: `1.${seq++}`, grants };
    const answer = runCommand(["barrier", "ready", "--timeout", "700h"], ctx);
    mock.timers.tick(1);
    assert.equal(await settled(answer), false);
    mock.timers.tick(MAX_TIMER_MS);
    assert.equal(await settled(answer), false);
    mock.timers.tick(700 * HOUR - MAX_TIMER_MS - 2);
    assert.equal(await settled(answer), false);
    mock.timers.tick(1);
    const a = await answer;
    assert.equal(a.code, SYNC_EXIT.TIMEOUT);
    assert.match(a.text, /barrier ready: timed out after 700h/);
  });

  it("a kv wait from the orchestrator's API with a 30-day timeout", async () => {
    const s = service();
    const wait = new SyncClient(s).kv.wait("db/url", { timeoutMs: 720 * HOUR });
    mock.timers.tick(MAX_TIMER_MS + 1);
    assert.equal(await settled(wait), false);
    new SyncClient(s, "server").kv.set("db/url", "pg://x");
    assert.equal(await wait, "pg://x");
  });

  it("an API wait with timeoutMs Infinity has no limit; NaN is refused", async () => {
    const s = service();
    const forever = new SyncClient(s).kv.wait("k", { timeoutMs: Infinity });
    mock.timers.tick(10 * MAX_TIMER_MS);
    assert.equal(await settled(forever), false);
    await assert.rejects(new SyncClient(s).kv.wait("k", { timeoutMs: NaN }), (e) => e instanceof SyncError && e.kind === "usage");
    s.close();
    await assert.rejects(forever, (e) => e instanceof SyncError && e.kind === "unavailable");
  });
});
