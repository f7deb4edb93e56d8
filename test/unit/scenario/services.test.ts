// A service's ready_timeout: any length works (issue 12: timers past 2^31-1
// ms fired at once), and it also ends a ready: check that hangs.

import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it, mock } from "node:test";
import { EventStream } from "../../../src/report/events.js";
import { ServiceSet, type ServiceSpec } from "../../../src/scenario/services.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/transport.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { MAX_TIMER_MS } from "../../../src/util/long-timer.js";
import { useMockedTime } from "../../support/mocked-time.js";

const HOUR = 3_600_000;

/** A host where the service runs until stopped and every ready check hangs until aborted. */
class HangingHost implements Transport {
  readonly label = "h";
  checks = 0;
  exec(options: ExecOptions): Promise<ExecResult> {
    if (options.script !== "serve") this.checks++;
    return new Promise((resolve) => {
      const stop = (): void => resolve({ exitCode: null, signal: "SIGKILL" });
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener("abort", stop, { once: true });
    });
  }
  put(): Promise<void> {
    return Promise.resolve();
  }
  get(): Promise<Readable> {
    return Promise.resolve(Readable.from([]));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function spec(transport: Transport, readyTimeoutMs: number): ServiceSpec {
  return { host: "h", name: "web", transport, script: "serve", ready: "check", readyTimeoutMs, onLine: () => undefined };
}

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe("ServiceSet: ready_timeout", () => {
  useMockedTime();

  it("ends a ready check that hangs, and says the service was not ready", async () => {
    const host = new HangingHost();
    const services = new ServiceSet(new EventStream(), () => undefined);
    const started = services.start(spec(host, 5000), new AbortController().signal);
    assert.equal(await settled(started), false);
    assert.equal(host.checks, 1);
    mock.timers.tick(5000);
    await assert.rejects(started, (e) => isTroupeError(e) && e.code === "E_SCENARIO" && /web was not ready after 5s/.test(e.message));
    await services.stopAll();
  });

  it("waits the whole of a ready_timeout past 2^31-1 ms", async () => {
    const host = new HangingHost();
    const services = new ServiceSet(new EventStream(), () => undefined);
    const started = services.start(spec(host, 700 * HOUR), new AbortController().signal);
    mock.timers.tick(1);
    assert.equal(await settled(started), false);
    mock.timers.tick(MAX_TIMER_MS);
    assert.equal(await settled(started), false);
    mock.timers.tick(700 * HOUR);
    await assert.rejects(started, (e) => isTroupeError(e) && /web was not ready after 2520000s/.test(e.message));
    await services.stopAll();
  });
});
