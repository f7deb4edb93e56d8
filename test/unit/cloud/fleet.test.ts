// The fleet's policy, with a provider kept in memory (the cloud API is the
// one boundary this machine cannot reach; the ec2 tests run the real SDK
// against moto): batching, max-hosts, the partial policy, fatal provider
// errors, throttling, and close() destroying what is still being made.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { System } from "../../../src/model/project.js";
import { EventStream } from "../../../src/report/events.js";
import { CloudFleet, type CloudMachine, type CloudProvider, type CreateRequest } from "../../../src/backends/cloud/fleet.js";
import type { CloudFailure } from "../../../src/backends/cloud/errors.js";
import type { CloudSettings } from "../../../src/backends/cloud/settings.js";
import { isTroupeError } from "../../../src/util/errors.js";

const POS = { file: "troupe.yaml", line: 1, col: 1 };
const SYSTEM: System = { name: "s", backend: "c", image: "i", workers: 1, pos: POS, where: {}, environment: [], extra: {} };

class ProviderError extends Error {
  constructor(
    readonly kind: CloudFailure["kind"],
    message: string,
  ) {
    super(message);
  }
}

/** A provider in memory: `give(n)` says how many of n asked machines come up. */
class MemoryProvider implements CloudProvider<CloudMachine> {
  readonly type = "mem";
  readonly calls: CreateRequest[] = [];
  readonly alive = new Set<string>();
  readonly destroyed: string[] = [];
  private next = 1;
  /** Errors to throw at the next calls, in order. */
  readonly failures: ProviderError[] = [];
  give: (n: number) => number = (n) => n;
  /** When set, create waits for it after the machines exist (they are "booting"). */
  booting: Promise<void> | undefined;

  async create(req: CreateRequest, created: (ms: readonly Pick<CloudMachine, "id">[]) => void): Promise<readonly CloudMachine[]> {
    this.calls.push(req);
    const f = this.failures.shift();
    if (f) throw f;
    const n = this.give(req.names.length);
    const ms = Array.from({ length: n }, () => ({ id: `m-${this.next++}`, address: `10.0.0.${this.next}` }));
    for (const m of ms) this.alive.add(m.id);
    created(ms);
    if (this.booting) await this.booting;
    return ms;
  }

  destroy(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.alive.delete(id);
      this.destroyed.push(id);
    }
    return Promise.resolve();
  }

  classify(err: unknown): CloudFailure {
    return err instanceof ProviderError
      ? { kind: err.kind, code: err.kind.toUpperCase(), reason: err.message }
      : { kind: "other", reason: String(err) };
  }
}

function settings(more: Partial<CloudSettings> = {}): CloudSettings {
  return { partial: "fail", apiConcurrency: 2, lifetimeMs: 3_600_000, bootTimeoutMs: 60_000, ...more };
}

/** A reached machine: its address, and a connection that says when it is closed. */
interface Conn {
  readonly address: string;
  closed: boolean;
  close(): Promise<void>;
}

const reachOk = (m: CloudMachine): Promise<Conn> => {
  const conn: Conn = {
    address: m.address,
    closed: false,
    close: () => {
      conn.closed = true;
      return Promise.resolve();
    },
  };
  return Promise.resolve(conn);
};

test("requests made together share one provider call, at most maxBatch each", async () => {
  const p = new MemoryProvider();
  const fleet = new CloudFleet({ provider: p, settings: settings(), events: new EventStream(), maxBatch: 4 });
  const got = await Promise.all(Array.from({ length: 10 }, (_, i) => fleet.allocate(SYSTEM, `h-${i + 1}`, reachOk)));
  assert.deepEqual(
    p.calls.map((c) => c.names.length),
    [4, 4, 2],
  );
  assert.deepEqual(p.calls[0]!.names, ["h-1", "h-2", "h-3", "h-4"]);
  assert.equal(new Set(got.map((g) => g.machine.id)).size, 10);
  // The fail policy asks for all or nothing; every batch has its own idempotency token.
  assert.ok(p.calls.every((c) => c.all));
  assert.equal(new Set(p.calls.map((c) => c.token)).size, 3);
  await fleet.close();
  assert.equal(p.alive.size, 0);
});

test("partial: use goes on with the machines that came up; the others' allocations fail", async () => {
  const p = new MemoryProvider();
  p.give = (n) => n - 1;
  const events = new EventStream();
  const warnings: string[] = [];
  events.on((e) => {
    if (e.type === "message" && e.level === "warn") warnings.push(e.text);
  });
  const fleet = new CloudFleet({ provider: p, settings: settings({ partial: "use" }), events });
  const got = await Promise.allSettled(["a", "b", "c"].map((n) => fleet.allocate(SYSTEM, n, reachOk)));
  assert.deepEqual(
    got.map((g) => g.status),
    ["fulfilled", "fulfilled", "rejected"],
  );
  assert.equal(p.calls[0]!.all, false);
  assert.match(warnings.join("\n"), /asked for 3 machines of s, 2 came up; going on with those \(partial: use\)/);
  // Later allocations still work.
  await fleet.allocate(SYSTEM, "d", reachOk).catch(() => undefined);
  assert.equal(p.calls.length, 2);
  await fleet.close();
  assert.equal(p.alive.size, 0);
});

test("partial: fail releases every machine of the call and fails every later allocation", async () => {
  const p = new MemoryProvider();
  p.give = (n) => n - 1;
  const fleet = new CloudFleet({ provider: p, settings: settings({ partial: "fail" }), events: new EventStream() });
  const got = await Promise.allSettled(["a", "b", "c"].map((n) => fleet.allocate(SYSTEM, n, reachOk)));
  assert.ok(got.every((g) => g.status === "rejected"));
  assert.equal(p.alive.size, 0, "nothing left allocated");
  const later = await fleet.allocate(SYSTEM, "d", reachOk).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isTroupeError(later) && later.code === "E_BACKEND" && /2 came up; releasing them all/.test(later.message));
  assert.equal(p.calls.length, 1, "no call after the failure");
});

test("a quota error is one line with the provider's reason, exit 3 (E_BACKEND), and stops the fleet whatever the policy", async () => {
  const p = new MemoryProvider();
  p.failures.push(new ProviderError("quota", "You have requested more vCPU capacity than your current vCPU limit of 32 allows"));
  const fleet = new CloudFleet({ provider: p, settings: settings({ partial: "use" }), events: new EventStream() });
  const err = await fleet.allocate(SYSTEM, "a", reachOk).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isTroupeError(err) && err.code === "E_BACKEND");
  assert.equal(
    err.message,
    "mem: cannot create 1 machine of s: QUOTA: You have requested more vCPU capacity than your current vCPU limit of 32 allows; ask the provider for a higher limit, or lower max-hosts",
  );
  await assert.rejects(fleet.allocate(SYSTEM, "b", reachOk), /QUOTA/);
  assert.equal(p.calls.length, 1);
});

test("throttling is retried with backoff, with the same idempotency token", async () => {
  const p = new MemoryProvider();
  p.failures.push(new ProviderError("throttle", "Request limit exceeded."), new ProviderError("throttle", "Request limit exceeded."));
  const fleet = new CloudFleet({ provider: p, settings: settings(), events: new EventStream() });
  const got = await fleet.allocate(SYSTEM, "a", reachOk);
  assert.equal(got.machine.id, "m-1");
  assert.equal(p.calls.length, 3);
  assert.equal(new Set(p.calls.map((c) => c.token)).size, 1);
  await fleet.close();
});

test("max-hosts: asking for more machines than it allows fails with what to do, before any call", async () => {
  const p = new MemoryProvider();
  const fleet = new CloudFleet({ provider: p, settings: settings({ maxHosts: 2 }), events: new EventStream() });
  const got = await Promise.allSettled(["a", "b", "c"].map((n) => fleet.allocate(SYSTEM, n, reachOk)));
  const third = got[2]!;
  assert.equal(third.status, "rejected");
  assert.match(String(third.reason), /needs more than max-hosts \(2\) machines at once; raise max-hosts/);
  await fleet.close();
  assert.equal(p.alive.size, 0);
});

test("a machine that cannot be reached is destroyed; under partial: fail, the fleet stops", async () => {
  const p = new MemoryProvider();
  const fleet = new CloudFleet({ provider: p, settings: settings(), events: new EventStream() });
  await assert.rejects(
    fleet.allocate(SYSTEM, "a", () => Promise.reject(new Error("no ssh"))),
    /no ssh/,
  );
  assert.equal(p.alive.size, 0);
  await assert.rejects(fleet.allocate(SYSTEM, "b", reachOk), /could not be reached: no ssh/);
});

test("close() while machines are being made destroys them too", async () => {
  const p = new MemoryProvider();
  let boot!: () => void;
  p.booting = new Promise<void>((r) => (boot = r));
  const made: string[] = [];
  const fleet = new CloudFleet({ provider: p, settings: settings(), events: new EventStream(), onCreated: (ids) => made.push(...ids) });
  const pending = Promise.allSettled(["a", "b"].map((n) => fleet.allocate(SYSTEM, n, reachOk)));
  // Wait for the provider to have made them (they are booting).
  while (made.length < 2) await new Promise((r) => setImmediate(r));
  const closing = fleet.close();
  boot();
  await closing;
  const got = await pending;
  assert.ok(got.every((g) => g.status === "rejected"));
  assert.equal(p.alive.size, 0);
  assert.deepEqual(p.destroyed.sort(), ["m-1", "m-2"]);
});

test("max-hosts counts the machines handed out and the requests in flight, not both for one machine", async () => {
  const p = new MemoryProvider();
  const fleet = new CloudFleet({ provider: p, settings: settings({ maxHosts: 3 }), events: new EventStream() });
  await Promise.all(["a", "b"].map((n) => fleet.allocate(SYSTEM, n, reachOk)));
  const third = await fleet.allocate(SYSTEM, "c", reachOk);
  assert.equal(third.machine.id, "m-3");
  await assert.rejects(fleet.allocate(SYSTEM, "d", reachOk), /max-hosts \(3\)/);
  await fleet.discard("a");
  assert.equal(p.alive.size, 2);
  await fleet.close();
});

test("discard closes the host's connection and destroys its machine; a kept host is only let go of, at discard and at close", async () => {
  const p = new MemoryProvider();
  const fleet = new CloudFleet<CloudMachine, Conn>({ provider: p, settings: settings(), events: new EventStream() });
  const [a, b, c] = await Promise.all(["a", "b", "c"].map((n) => fleet.allocate(SYSTEM, n, reachOk)));
  assert.equal(fleet.keep("b"), true);
  assert.equal(fleet.keep("nobody"), false);
  assert.equal(fleet.keeps("b"), true);
  await fleet.discard("a");
  await fleet.discard("a");
  assert.equal(a!.reached.closed, true);
  assert.deepEqual(p.destroyed, [a!.machine.id]);
  await fleet.discard("b");
  assert.equal(b!.reached.closed, true);
  assert.ok(p.alive.has(b!.machine.id), "a kept machine stays up");
  assert.ok(fleet.keep("c"));
  await fleet.close();
  assert.equal(c!.reached.closed, true);
  assert.deepEqual(p.destroyed, [a!.machine.id]);
  assert.ok(p.alive.has(c!.machine.id));
});

test("an adopted machine (kept by an earlier run) is this run's: destroyed at close unless kept again", async () => {
  const p = new MemoryProvider();
  const fleet = new CloudFleet<CloudMachine, Conn>({ provider: p, settings: settings(), events: new EventStream() });
  p.alive.add("old-1");
  p.alive.add("old-2");
  const conn = await reachOk({ id: "old-1", address: "10.0.0.9" });
  fleet.adopt("x-1", { id: "old-1", address: "10.0.0.9" }, conn);
  fleet.adopt("x-2", { id: "old-2", address: "10.0.0.8" });
  assert.ok(fleet.has("x-1") && fleet.has("x-2"));
  fleet.keep("x-2");
  await fleet.close();
  assert.equal(conn.closed, true);
  assert.deepEqual(p.destroyed, ["old-1"]);
  assert.ok(p.alive.has("old-2"));
});
