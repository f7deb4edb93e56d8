// The job session around the relays: environment, ports, start failures,
// the orchestrator's side of the API.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { assignments, fakeJob, fleet } from "./helpers.js";
import { openSyncSession, createSyncSessionFactory } from "../../../src/sync/session.js";
import { PortRegistry } from "../../../src/sync/ports.js";
import { TroupeError } from "../../../src/util/errors.js";

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      if (addr && typeof addr === "object") resolve({ server, port: addr.port });
    });
  });
}

test("env gives each host its control dir, troupe-ctl on PATH, and the reserved ports", async () => {
  const f = await fleet(
    { server: 1, client: 1 },
    {
      job: fakeJob("local:debian:tests/ports", [{ key: "TROUPE_PORTS", value: '"http:server metrics"' }]),
      portRegistry: new PortRegistry(),
    },
  );
  try {
    const [server, client] = f.hosts as [never, never];
    const se = f.session.env(server);
    const ce = f.session.env(client);
    assert.match(se.TROUPE_CTL_DIR ?? "", /^\/tmp\/troupe-sync-[0-9a-f]{8}-server$/);
    assert.notEqual(se.TROUPE_CTL_DIR, ce.TROUPE_CTL_DIR);
    assert.equal(se.TROUPE_CTL, `${se.TROUPE_CTL_DIR}/bin/troupe-ctl`);
    assert.equal(se.PATH, `${se.TROUPE_CTL_DIR}/bin`, "a directory to put in front of PATH");
    const http = f.session.ports.get("http");
    const metrics = f.session.ports.get("metrics");
    assert.ok(http && metrics && http !== metrics);
    assert.equal(se.TROUPE_PORT_HTTP, String(http));
    assert.equal(ce.TROUPE_PORT_HTTP, String(http), "every role knows the server's port");
    assert.equal(ce.TROUPE_PORT_METRICS, String(metrics));
    const r = await f.run("client", 'echo "$TROUPE_PORT_HTTP $(troupe-ctl kv get port/http)"');
    assert.equal(r.stdout, `${http} ${http}\n`);
  } finally {
    await f.close();
  }
});

test("a reserved port avoids ports in use on the host", async () => {
  const { server, port } = await listen();
  try {
    const job = fakeJob("local:debian:tests/busy");
    const opts = { ports: [{ name: "web", on: "server" }], portRegistry: new PortRegistry() };
    const f = await fleet({ server: 1 }, { ...opts, job, portRange: { from: port, to: port + 1 } });
    try {
      assert.equal(f.session.ports.get("web"), port + 1, `port ${port} is in use and must be skipped`);
    } finally {
      await f.close();
    }
    await assert.rejects(fleet({ server: 1 }, { ...opts, job, portRange: { from: port, to: port } }), /no free port left/);
  } finally {
    server.close();
  }
});

test("two open sessions never get the same port on one address", async () => {
  const registry = new PortRegistry();
  const job = fakeJob("same-job");
  const a = await fleet({ server: 1 }, { job, ports: [{ name: "p" }], portRegistry: registry, portRange: { from: 41000, to: 41100 } });
  const b = await fleet({ server: 1 }, { job, ports: [{ name: "p" }], portRegistry: registry, portRange: { from: 41000, to: 41100 } });
  try {
    assert.notEqual(a.session.ports.get("p"), b.session.ports.get("p"));
  } finally {
    await a.close();
    await b.close();
  }
  const c = await fleet({ server: 1 }, { job, ports: [{ name: "p" }], portRegistry: registry, portRange: { from: 41000, to: 41100 } });
  try {
    assert.equal(c.session.ports.get("p"), a.session.ports.get("p"), "closing a session gives its ports back");
  } finally {
    await c.close();
  }
});

test("the orchestrator awaits a barrier and a key from its side", async () => {
  const f = await fleet({ node: 2 });
  try {
    const seen = f.session.sync.barrier("ready", { timeoutMs: 10_000 });
    const key = f.session.sync.kv.wait("result", { timeoutMs: 10_000 });
    const rs = await Promise.all([
      f.run("node-1", "troupe-ctl barrier ready --timeout 10s && troupe-ctl kv set result 42"),
      f.run("node-2", "troupe-ctl barrier ready --timeout 10s"),
    ]);
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...(await seen).arrived].sort(), ["node-1", "node-2"]);
    assert.equal(await key, "42");
    // And a host waits for the orchestrator.
    const w = f.run("node-2", "troupe-ctl wait go --timeout 10s");
    f.session.sync.send("go", { phase: "two" });
    assert.equal((await w).stdout, "phase=two\n");
  } finally {
    await f.close();
  }
});

test("a relay that cannot start fails the session with the host's own words", async () => {
  const hosts = assignments({ server: 1, client: 1 });
  try {
    await assert.rejects(
      openSyncSession(fakeJob(), hosts, new AbortController().signal, {
        controlDir: (a) => (a.name === "client" ? "/proc/troupe-cannot-create" : `/tmp/troupe-sync-test-${process.pid}-${a.name}`),
      }),
      (e: unknown) =>
        e instanceof TroupeError &&
        e.code === "E_TRANSPORT" &&
        /^client: the sync relay ended before it was ready \(exit status 70\): .*troupe relay: cannot create \/proc\/troupe-cannot-create/.test(
          e.message,
        ),
    );
  } finally {
    for (const a of hosts) await a.host.transport.close();
  }
});

test("the factory has the scheduler's signature, and aborting the run poisons and closes the session", async () => {
  const hosts = assignments({ node: 2 });
  const ac = new AbortController();
  const factory = createSyncSessionFactory();
  const session = await factory(fakeJob(), hosts, ac.signal);
  try {
    const env = session.env(hosts[0]!);
    const waiting = hosts[0]!.host.transport.exec({
      script: '"$TROUPE_CTL" barrier b --timeout 10s',
      env: { ...env, PATH: process.env.PATH ?? "" },
      onStderr: () => undefined,
    });
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    const r = await waiting;
    assert.equal(r.exitCode, 125, "the pending wait fails as poisoned: the run was interrupted");
  } finally {
    await session.close();
    for (const a of hosts) await a.host.transport.close();
  }
});
