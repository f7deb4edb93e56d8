import { test } from "node:test";
import assert from "node:assert/strict";
import { syncWaitOf } from "../../../src/report/sync-waits.js";

test("troupe-ctl requests that wait are named without their timeout or count; the others are not waits", () => {
  assert.equal(syncWaitOf(["barrier", "ready", "--timeout", "5m"]), "barrier ready");
  assert.equal(syncWaitOf(["barrier", "--count", "3", "ready"]), "barrier ready");
  assert.equal(syncWaitOf(["wait", "done", "--all", "client"]), "wait done --all client");
  assert.equal(syncWaitOf(["sync", "go", "--timeout=10s"]), "sync go");
  assert.equal(syncWaitOf(["lock", "db"]), "lock db");
  assert.equal(syncWaitOf(["kv", "get", "addr", "--wait"]), "kv get addr --wait");
  assert.equal(syncWaitOf(["kv", "get", "addr"]), undefined);
  assert.equal(syncWaitOf(["kv", "set", "a", "b"]), undefined);
  assert.equal(syncWaitOf(["send", "done"]), undefined);
  assert.equal(syncWaitOf([]), undefined);
});
