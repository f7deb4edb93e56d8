// A host's script that rebooted runs again from its first line: the
// barriers and syncs it passed before the reboot are answered at once, as
// many times as it passed them, and later ones wait as usual.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runCommand, type CommandContext } from "../../../src/sync/commands.js";
import { SYNC_EXIT } from "../../../src/sync/errors.js";
import type { LockGrant } from "../../../src/sync/locks.js";
import { PassedWaits } from "../../../src/sync/replay.js";
import { SyncService } from "../../../src/sync/service.js";

function pair() {
  const service = new SyncService({
    hosts: [
      { name: "a", role: "a", address: "10.0.0.1" },
      { name: "b", role: "b", address: "10.0.0.2" },
    ],
  });
  const passed = new PassedWaits();
  let seq = 0;
  const grants = new Map<string, LockGrant>();
  const run = (caller: "a" | "b", ...argv: string[]) => {
    const ctx: CommandContext = { service, caller, requestId: `1.${seq++}`, grants, ...(caller === "a" ? { passed } : {}) };
    return runCommand(argv, ctx);
  };
  return { service, passed, run };
}

test("after a reboot, the barriers and syncs the script passed are answered at once, as many times as it passed them", async () => {
  const { service, passed, run } = pair();
  passed.begin();
  for (let i = 0; i < 2; i++) {
    const [a, b] = await Promise.all([run("a", "barrier", "ready"), run("b", "barrier", "ready")]);
    assert.deepEqual([a.code, b.code], [0, 0]);
  }
  assert.deepEqual(
    (await Promise.all([run("a", "sync", "up"), run("b", "sync", "up")])).map((x) => x.code),
    [0, 0],
  );

  passed.rebooted();
  // b is not there: without the replay, a would wait for a third round.
  assert.deepEqual(await run("a", "barrier", "ready", "--timeout", "0"), { code: 0, text: "" });
  assert.deepEqual(await run("a", "barrier", "ready", "--timeout=0"), { code: 0, text: "" });
  assert.deepEqual(await run("a", "sync", "up", "--timeout", "0"), { code: 0, text: "" });
  // The replayed sync sent nothing: b's next sync waits for a's next one.
  const bNext = run("b", "sync", "up", "--timeout", "0");
  assert.equal((await bNext).code, SYNC_EXIT.TIMEOUT);
  // Past what it passed, a waits like anyone: a third round of `ready` needs b.
  const third = await run("a", "barrier", "ready", "--timeout", "0");
  assert.equal(third.code, SYNC_EXIT.TIMEOUT, third.text);
  assert.match(third.text, /1 of 2 arrived: a; not arrived: b/);
  const [a3, b3] = await Promise.all([run("a", "barrier", "ready"), run("b", "barrier", "ready")]);
  assert.deepEqual([a3.code, b3.code], [0, 0]);

  // A second reboot replays all three rounds of `ready`.
  passed.rebooted();
  for (let i = 0; i < 3; i++) assert.equal((await run("a", "barrier", "ready", "--timeout", "0")).code, 0);
  assert.equal((await run("a", "barrier", "ready", "--timeout", "0")).code, SYNC_EXIT.TIMEOUT);
  assert.equal(service.poisoned, undefined);
});

test("a new script of the host replays nothing its earlier scripts passed", async () => {
  const { passed, run } = pair();
  passed.begin();
  await Promise.all([run("a", "barrier", "ready"), run("b", "barrier", "ready")]);
  passed.begin(); // execute after prepare
  passed.rebooted();
  assert.equal((await run("a", "barrier", "ready", "--timeout", "0")).code, SYNC_EXIT.TIMEOUT);
});

test("a replayed barrier of a poisoned job fails as the others do", async () => {
  const { service, passed, run } = pair();
  passed.begin();
  await Promise.all([run("a", "barrier", "ready"), run("b", "barrier", "ready")]);
  passed.rebooted();
  service.poison("b", "execute failed");
  const r = await run("a", "barrier", "ready");
  assert.equal(r.code, SYNC_EXIT.POISONED);
  assert.match(r.text, /^barrier ready: poisoned: host b failed: execute failed$/);
});
