import { test } from "node:test";
import assert from "node:assert/strict";
import { Semaphore } from "../../../src/transport/ssh/limiter.js";
import { TroupeError } from "../../../src/util/errors.js";

test("no more than the limit hold a slot; waiters get in in order", async () => {
  const s = new Semaphore(2);
  let inside = 0;
  let most = 0;
  const order: number[] = [];
  const task = (i: number) =>
    s.run(async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setImmediate(r));
      order.push(i);
      inside--;
    });
  await Promise.all([0, 1, 2, 3, 4, 5].map(task));
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(s.active, 0);
});

test("a release is idempotent and a failing holder gives its slot back", async () => {
  const s = new Semaphore(1);
  const release = await s.acquire();
  release();
  release();
  assert.equal(s.active, 0);
  await assert.rejects(
    s.run(async () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(s.active, 0);
});

test("an aborted waiter leaves the queue with E_INTERRUPTED", async () => {
  const s = new Semaphore(1);
  const release = await s.acquire();
  const ac = new AbortController();
  const waiting = s.acquire(ac.signal);
  assert.equal(s.pending, 1);
  ac.abort();
  await assert.rejects(waiting, (e: unknown) => e instanceof TroupeError && e.code === "E_INTERRUPTED");
  assert.equal(s.pending, 0);
  release();
  assert.equal(s.active, 0);
});

test("growing the limit lets waiters in at once", async () => {
  const s = new Semaphore(1);
  await s.acquire();
  let got = false;
  const p = s.acquire().then(() => (got = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(got, false);
  s.resize(2);
  await p;
  assert.equal(got, true);
  assert.throws(() => s.resize(0), TroupeError);
});
