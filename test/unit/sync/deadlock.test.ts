import { test } from "node:test";
import assert from "node:assert/strict";
import { canGoOn, describeDeadlock, findDeadlock, type HostState } from "../../../src/sync/deadlock.js";

const barrier = { what: 'at barrier "ready"', detail: "1 of 2 arrived: server; not arrived: client" };
const message = { what: 'for message "go"', detail: "nobody else sent it" };

test("every host blocked in an untimed wait is a deadlock, named host by host", () => {
  const hosts: HostState[] = [
    { name: "server", running: true, waits: [barrier] },
    { name: "client", running: true, waits: [message] },
  ];
  const d = findDeadlock(hosts);
  assert.ok(d);
  assert.equal(
    describeDeadlock(d),
    'deadlock: every host of the job waits and none can go on: server waits at barrier "ready" (1 of 2 arrived: server; not arrived: client), ' +
      'client waits for message "go" (nobody else sent it)',
  );
});

test("a host that runs a script and waits for nothing can still release the others", () => {
  const hosts: HostState[] = [
    { name: "server", running: true, waits: [] },
    { name: "client", running: true, waits: [message] },
  ];
  assert.equal(canGoOn(hosts[0]!), true);
  assert.equal(findDeadlock(hosts), undefined);
});

test("a host whose script ended releases nobody: the others' waits are a deadlock", () => {
  const hosts: HostState[] = [
    { name: "server", running: false, waits: [] },
    { name: "client-1", running: true, waits: [message] },
    { name: "client-2", running: true, waits: [{ what: 'for kv key "port"', detail: "" }, message] },
  ];
  const d = findDeadlock(hosts);
  assert.ok(d);
  assert.deepEqual(d.idle, ["server"]);
  assert.equal(
    describeDeadlock(d),
    'deadlock: no host of the job can go on: client-1 waits for message "go" (nobody else sent it), ' +
      'client-2 waits for kv key "port" and for message "go" (nobody else sent it), server runs no script',
  );
});

test("a wait with a timeout ends by itself: its host can go on", () => {
  const hosts: HostState[] = [
    { name: "server", running: true, waits: [{ ...barrier, timeoutMs: 60_000 }] },
    { name: "client", running: false, waits: [] },
  ];
  assert.equal(findDeadlock(hosts), undefined);
  // Infinity is no limit at all.
  assert.ok(findDeadlock([{ name: "server", running: true, waits: [{ ...barrier, timeoutMs: Infinity }] }]));
});

test("nobody waiting is no deadlock, whether the scripts run or ended", () => {
  assert.equal(findDeadlock([]), undefined);
  assert.equal(findDeadlock([{ name: "server", running: false, waits: [] }]), undefined);
  assert.equal(findDeadlock([{ name: "server", running: true, waits: [] }]), undefined);
});

test("a wait left behind by a script that ended (a background troupe-ctl) still blocks", () => {
  const hosts: HostState[] = [
    { name: "server", running: false, waits: [message] },
    { name: "client", running: false, waits: [] },
  ];
  assert.deepEqual(findDeadlock(hosts)?.waiting, [{ host: "server", waits: [message] }]);
});
