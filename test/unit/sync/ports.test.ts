import { test } from "node:test";
import assert from "node:assert/strict";
import { choosePort, parsePortSpec, portEnvName, PortRegistry } from "../../../src/sync/ports.js";

test("TROUPE_PORTS is read as NAME or NAME:HOST-or-ROLE, quotes dropped", () => {
  assert.deepEqual(parsePortSpec('"http:server db:server, metrics"'), [
    { name: "http", on: "server" },
    { name: "db", on: "server" },
    { name: "metrics" },
  ]);
  assert.deepEqual(parsePortSpec(""), []);
  assert.throws(() => parsePortSpec("bad/name"), /bad entry "bad\/name"/);
  assert.throws(() => parsePortSpec("x:"), /bad entry "x:"/);
});

test("port env names", () => {
  assert.equal(portEnvName("http-api"), "TROUPE_PORT_HTTP_API");
});

test("a chosen port is stable for a seed, in range, and avoids ports in use and ports handed out", () => {
  const reg = new PortRegistry();
  const range = { from: 30000, to: 30009 };
  const a = choosePort("job\0http", [{ address: "h1", used: new Set() }], range, reg);
  assert.equal(choosePort("job\0http", [{ address: "h1", used: new Set() }], range, reg), a, "same seed, same port");
  assert.ok(a >= 30000 && a <= 30009);
  // In use on the second target: skipped.
  const b = choosePort(
    "job\0http",
    [
      { address: "h1", used: new Set() },
      { address: "h2", used: new Set([a]) },
    ],
    range,
    reg,
  );
  assert.notEqual(b, a);
  // Handed out to another session on the same address: skipped; on another address: fine.
  reg.take("h1", a);
  assert.notEqual(choosePort("job\0http", [{ address: "h1", used: new Set() }], range, reg), a);
  assert.equal(choosePort("job\0http", [{ address: "h3", used: new Set() }], range, reg), a);
  reg.release("h1", a);
  assert.equal(choosePort("job\0http", [{ address: "h1", used: new Set() }], range, reg), a);
  // Exhausted.
  const all = new Set(Array.from({ length: 10 }, (_, i) => 30000 + i));
  assert.throws(() => choosePort("x", [{ address: "h1", used: all }], range, reg), /no free port left in 30000-30009/);
  assert.throws(() => choosePort("x", [], { from: 10, to: 5 }, reg), /bad port range/);
});
