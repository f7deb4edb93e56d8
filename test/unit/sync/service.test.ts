import { test } from "node:test";
import assert from "node:assert/strict";
import { SyncService } from "../../../src/sync/service.js";
import { SyncClient } from "../../../src/sync/client.js";
import { SyncError, SYNC_EXIT } from "../../../src/sync/errors.js";

function job(roles: Record<string, number> = { server: 1, client: 2 }, extra: { orchestratorJoinsBarriers?: boolean } = {}) {
  const hosts = [];
  let n = 0;
  for (const [role, count] of Object.entries(roles)) {
    for (let i = 1; i <= count; i++) hosts.push({ name: count === 1 ? role : `${role}-${i}`, role, address: `10.0.0.${++n}` });
  }
  const service = new SyncService({ hosts, ...extra });
  const as = (name: string) => new SyncClient(service, name);
  return { service, as, orch: new SyncClient(service) };
}

/** Resolves to "pending" if `p` has not settled after the current macrotask. */
async function state<T>(p: Promise<T>): Promise<"pending" | "resolved" | "rejected"> {
  let s: "pending" | "resolved" | "rejected" = "pending";
  p.then(
    () => (s = "resolved"),
    () => (s = "rejected"),
  );
  await new Promise((r) => setImmediate(r));
  return s;
}

async function rejection(p: Promise<unknown>): Promise<SyncError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SyncError, `not a SyncError: ${String(e)}`);
    return e;
  }
  assert.fail("expected a rejection");
}

test("a barrier of 3 hosts releases only when the third arrives", async () => {
  const { as } = job();
  const a = as("server").barrier("ready");
  const b = as("client-1").barrier("ready");
  assert.equal(await state(a), "pending");
  assert.equal(await state(b), "pending");
  const c = as("client-2").barrier("ready");
  const results = await Promise.all([a, b, c]);
  assert.deepEqual(
    results.map((r) => r.round),
    [0, 0, 0],
  );
  assert.deepEqual(results[0]?.arrived, ["server", "client-1", "client-2"]);
});

test("a barrier reused in a loop passes separate rounds, and nobody laps", async () => {
  const { as } = job();
  const log: string[] = [];
  const loop = async (name: string, delayMs: number) => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, delayMs));
      log.push(`${name} in ${i}`);
      const r = await as(name).barrier("ready");
      assert.equal(r.round, i);
      log.push(`${name} out ${i}`);
    }
  };
  await Promise.all([loop("server", 0), loop("client-1", 3), loop("client-2", 1)]);
  // Nobody leaves round i before everyone entered it.
  for (let i = 0; i < 5; i++) {
    const lastIn = Math.max(...["server", "client-1", "client-2"].map((h) => log.indexOf(`${h} in ${i}`)));
    const firstOut = Math.min(...["server", "client-1", "client-2"].map((h) => log.indexOf(`${h} out ${i}`)));
    assert.ok(lastIn < firstOut, `round ${i}: ${log.join(", ")}`);
  }
});

test("--count releases a barrier at N arrivals; a count mismatch in one round is a usage error", async () => {
  const { as } = job({ node: 4 });
  const a = as("node-1").barrier("two", { count: 2 });
  assert.equal(await state(a), "pending");
  await Promise.all([a, as("node-2").barrier("two", { count: 2 })]);
  const c = as("node-3").barrier("two", { count: 2 });
  const e = await rejection(as("node-4").barrier("two", { count: 3 }));
  assert.equal(e.kind, "usage");
  assert.match(e.message, /--count 3 differs from --count 2/);
  await Promise.all([c, as("node-4").barrier("two", { count: 2 })]);
  await assert.rejects(as("node-1").barrier("x", { count: 0 }), /--count must be a whole number >= 1/);
});

test("a barrier timeout names who is missing and withdraws the caller from the round", async () => {
  const { as, service } = job();
  const e = await rejection(as("server").barrier("ready", { timeoutMs: 20 }));
  assert.equal(e.kind, "timeout");
  assert.equal(e.exitCode, SYNC_EXIT.TIMEOUT);
  assert.match(e.message, /^barrier ready: timed out after 20ms \(1 of 3 arrived: server; not arrived: client-1, client-2\)$/);
  assert.equal(service.pendingWaits, 0);
  // The withdrawn arrival does not count: two more arrivals are not enough.
  const a = as("client-1").barrier("ready");
  const b = as("client-2").barrier("ready");
  assert.equal(await state(a), "pending");
  await Promise.all([a, b, as("server").barrier("ready")]);
});

test("the orchestrator observes a barrier without counting, or joins it when asked", async () => {
  const { as, orch } = job({ node: 2 });
  const watching = orch.barrier("go");
  const n1 = as("node-1").barrier("go");
  assert.equal(await state(watching), "pending");
  await Promise.all([watching, n1, as("node-2").barrier("go")]);

  const joined = job({ node: 2 }, { orchestratorJoinsBarriers: true });
  const o = joined.orch.barrier("go", { join: true });
  const x = joined.as("node-1").barrier("go");
  const y = joined.as("node-2").barrier("go");
  assert.equal(await state(x), "resolved");
  await Promise.all([o, y]);
});

test("kv set/get/del and get --wait with a timeout", async () => {
  const { orch, as, service } = job();
  assert.equal(orch.kv.get("k"), undefined);
  const waiting = as("client-1").kv.wait("k");
  assert.equal(await state(waiting), "pending");
  as("server").kv.set("k", "v 1");
  assert.equal(await waiting, "v 1");
  assert.equal(orch.kv.get("k"), "v 1");
  assert.equal(await orch.kv.wait("k", { timeoutMs: 0 }), "v 1", "an already set key needs no waiting");
  assert.equal(orch.kv.del("k"), true);
  assert.equal(orch.kv.get("k"), undefined);
  const e = await rejection(orch.kv.wait("k", { timeoutMs: 15 }));
  assert.equal(e.kind, "timeout");
  assert.equal(e.message, "kv get k: timed out after 15ms (not set)");
  assert.equal(service.pendingWaits, 0);
});

test("LAVA wait: until any other host sent MSG, before or after; never one's own message", async () => {
  const { as } = job();
  as("server").send("booted", { ip: "10.0.0.1" });
  const got = await as("client-1").wait("booted");
  assert.deepEqual(got, { from: "server", data: [["ip", "10.0.0.1"]] });
  // The server's own send does not satisfy its own wait.
  const self = as("server").wait("booted");
  assert.equal(await state(self), "pending");
  as("client-2").send("booted", { ip: "10.0.0.3" });
  assert.equal((await self).from, "client-2");
});

test("LAVA wait --all [ROLE]: until every other host (of ROLE) sent MSG, with each one's data", async () => {
  const { as, orch } = job({ server: 1, client: 3 });
  const all = as("server").wait("up", { all: "client" });
  as("client-1").send("up", { port: "1" });
  as("client-3").send("up", { port: "3" });
  assert.equal(await state(all), "pending");
  as("client-2").send("up", { port: "2" });
  const got = await all;
  assert.deepEqual(
    got.map((g) => [g.from, g.data]),
    [
      ["client-1", [["port", "1"]]],
      ["client-2", [["port", "2"]]],
      ["client-3", [["port", "3"]]],
    ],
  );
  // Without a role: every other host, the server included.
  const c1 = as("client-1").wait("up", { all: true });
  assert.equal(await state(c1), "pending");
  as("server").send("up");
  assert.equal((await c1).length, 3);
  // The orchestrator's messages never count for --all.
  const o = orch.wait("solo", { all: true });
  orch.send("solo");
  assert.equal(await state(o), "pending");
  await assert.rejects(as("server").wait("up", { all: "nosuchrole" }), /no role "nosuchrole"/);
});

test("LAVA sync: everyone's k-th sync waits for everyone's k-th, so it works in a loop", async () => {
  const { as } = job({ node: 3 });
  const loop = async (name: string, rounds: number, log: string[]) => {
    for (let i = 0; i < rounds; i++) {
      log.push(`${name}:${i}`);
      await as(name).sync("step");
    }
  };
  const log: string[] = [];
  const fast = loop("node-1", 3, log);
  const mid = loop("node-2", 3, log);
  assert.equal(await state(fast), "pending");
  assert.deepEqual(log, ["node-1:0", "node-2:0"]);
  await Promise.all([fast, mid, loop("node-3", 3, log)]);
  assert.equal(log.length, 9);
});

test("locks: one holder at a time, first come first served, released when the holder dies", async () => {
  const { as, service } = job({ node: 3 });
  const order: string[] = [];
  let inside = 0;
  const work = (name: string) =>
    as(name).lock("disk", async () => {
      inside++;
      assert.equal(inside, 1, "two holders at once");
      order.push(name);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
    });
  await Promise.all([work("node-1"), work("node-2"), work("node-3"), work("node-1")]);
  assert.deepEqual(order, ["node-1", "node-2", "node-3", "node-1"]);

  const g = await service.lock("node-1", "baton");
  const next = service.lock("node-2", "baton");
  assert.equal(await state(next), "pending");
  service.locks.releaseAllOf("node-1");
  assert.equal((await next).owner, "node-2");
  g.release(); // stale: must not free node-2's grant
  assert.equal(service.locks.holder("baton"), "node-2");
});

test("a lock waiter that times out leaves the queue and does not block the next", async () => {
  const { service } = job({ node: 3 });
  const g = await service.lock("node-1", "L");
  await assert.rejects(service.lock("node-2", "L", { timeoutMs: 10 }), /lock L: timed out after 10ms \(held by node-1\)/);
  const third = service.lock("node-3", "L");
  g.release();
  assert.equal((await third).owner, "node-3");
});

test("poison fails every pending and future wait at once, naming the host and the reason", async () => {
  const { as, service } = job();
  const pending = [
    as("server").barrier("ready"),
    as("client-1").kv.wait("never"),
    as("client-1").wait("msg"),
    as("server").wait("msg", { all: true }),
    as("client-2").sync("s"),
  ];
  const holder = await service.lock("client-2", "L");
  const lockWaiter = as("server").lock("L", () => undefined);
  assert.equal(service.poison("client-2", "exit status 1"), true);
  assert.equal(service.poison("server", "later failure"), false, "the first poison wins");
  assert.deepEqual(service.poisoned, { host: "client-2", reason: "exit status 1" });
  for (const p of [...pending, lockWaiter]) {
    const e = await rejection(p);
    assert.equal(e.kind, "poisoned");
    assert.equal(e.exitCode, SYNC_EXIT.POISONED);
    assert.match(e.message, /: poisoned: host client-2 failed: exit status 1$/);
  }
  const barrier = await rejection(as("client-1").barrier("ready"));
  assert.equal(barrier.message, "barrier ready: poisoned: host client-2 failed: exit status 1");
  assert.equal(service.locks.holder("L"), undefined, "the failed host's locks are released");
  holder.release();
  // Non-waiting calls still work (for restore/debug scripts).
  as("server").kv.set("k", "v");
  assert.equal(as("client-1").kv.get("k"), "v");
  assert.equal(service.pendingWaits, 0);
});

test("fail poisons the job with the caller's reason, marked as called on purpose (a host's failure is not)", async () => {
  const { as, service } = job();
  const w = as("server").barrier("ready");
  as("client-1").fail("database did not start");
  assert.deepEqual(service.poisoned, { host: "client-1", reason: "database did not start", called: true });
  assert.match((await rejection(w)).message, /barrier ready: poisoned: host client-1 failed: database did not start/);
});

test("close fails pending waits as closed, and later waits too", async () => {
  const { as, service } = job();
  const w = as("server").kv.wait("k");
  service.close();
  const e = await rejection(w);
  assert.equal(e.kind, "unavailable");
  assert.equal(e.message, "kv get k: the job's sync session is closed");
  assert.equal((await rejection(as("server").barrier("b"))).kind, "unavailable");
});

test("an aborted wait is withdrawn", async () => {
  const { as, service } = job();
  const ac = new AbortController();
  const w = as("server").barrier("b", { signal: ac.signal });
  assert.equal(service.pendingWaits, 1);
  ac.abort();
  assert.equal((await rejection(w)).message, "barrier b: cancelled");
  assert.equal(service.pendingWaits, 0);
});

test("discovery: hosts, roles and addresses", () => {
  const { service, orch } = job({ server: 1, client: 2 });
  assert.deepEqual(orch.hosts(), ["server", "client-1", "client-2"]);
  assert.deepEqual(orch.hosts("client"), ["client-1", "client-2"]);
  assert.deepEqual(orch.addr("server"), ["10.0.0.1"]);
  assert.deepEqual(orch.addr("client"), ["10.0.0.2", "10.0.0.3"]);
  assert.deepEqual(orch.addr("client-2"), ["10.0.0.3"]);
  assert.throws(
    () => orch.addr("db"),
    (e: unknown) => e instanceof SyncError && e.kind === "not-found" && /no host or role "db"/.test(e.message),
  );
  assert.throws(() => new SyncService({ hosts: [{ name: "orchestrator", role: "x", address: "" }] }), /may not be named/);
  assert.equal(service.roster.get("client-1")?.role, "client");
});
