import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { runCommand, type Answer } from "../../../src/sync/commands.js";
import { SYNC_EXIT, type Poison } from "../../../src/sync/errors.js";
import { SyncService } from "../../../src/sync/service.js";
import { useMockedTime } from "../../support/mocked-time.js";

// Time is mocked: the watch's timer and the monotonic clock it reads.
useMockedTime();

const SECOND = 1000;

/** Read afresh each time (assert.equal would narrow a property to undefined for good). */
const poisonOf = (s: SyncService): Poison | undefined => s.poisoned;

function job(deadlockTimeoutMs?: number) {
  const poisons: Poison[] = [];
  const service = new SyncService({
    hosts: ["server", "client-1", "client-2"].map((name, i) => ({ name, role: name.replace(/-\d$/, ""), address: `10.0.0.${i + 1}` })),
    onPoison: (p) => poisons.push(p),
    ...(deadlockTimeoutMs !== undefined ? { deadlockTimeoutMs } : {}),
  });
  /** troupe-ctl ARGS on HOST, as its relay runs it. */
  const ctl = (host: string, ...argv: string[]): Promise<Answer> =>
    runCommand(argv, { service, caller: host, requestId: `${host}.1`, grants: new Map() });
  return { service, poisons, ctl };
}

/** Let the answers of settled waits through (their awaits are microtasks). */
const settled = (): Promise<void> => new Promise((r) => queueMicrotask(() => queueMicrotask(r)));

describe("deadlock watch of the sync service", () => {
  it("fails every host's wait once all hosts wait and nothing changed for the timeout, naming each wait", async () => {
    const { service, poisons, ctl } = job(30 * SECOND);
    const answers = [ctl("server", "barrier", "ready"), ctl("client-1", "wait", "go"), ctl("client-2", "kv", "get", "port", "--wait")];
    mock.timers.tick(30 * SECOND - 1);
    assert.equal(poisonOf(service), undefined);
    mock.timers.tick(1);
    const why =
      'deadlock: every host of the job waits and none can go on: server waits at barrier "ready" (1 of 3 arrived: server; not arrived: client-1, client-2), ' +
      'client-1 waits for message "go" (nobody else sent it), client-2 waits for kv key "port" (not set)';
    assert.deepEqual(poisons, [{ host: "orchestrator", reason: why, code: "E_DEADLOCK" }]);
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((a) => a.code),
      [SYNC_EXIT.POISONED, SYNC_EXIT.POISONED, SYNC_EXIT.POISONED],
    );
    assert.equal(got[1]!.text, `wait go: poisoned: ${why}`);
    service.close();
  });

  it("progress moves the deadline: any change of the sync state starts the quiet time again", async () => {
    const { service, ctl } = job(30 * SECOND);
    void ctl("server", "wait", "go");
    void ctl("client-1", "wait", "go");
    void ctl("client-2", "barrier", "b", "--count", "2");
    mock.timers.tick(20 * SECOND);
    await ctl("client-1", "kv", "set", "progress", "1"); // a background process of client-1, say
    mock.timers.tick(20 * SECOND);
    assert.equal(poisonOf(service), undefined);
    mock.timers.tick(10 * SECOND);
    assert.equal(poisonOf(service)?.code, "E_DEADLOCK");
    service.close();
  });

  it("a host that runs a script and waits for nothing keeps the job alive; once its script ends, the rest is a deadlock", async () => {
    const { service, ctl } = job(30 * SECOND);
    const waits = [ctl("client-1", "wait", "go"), ctl("client-2", "wait", "go")];
    service.hostRunning("server", true);
    mock.timers.tick(10 * 60 * SECOND);
    assert.equal(poisonOf(service), undefined);
    service.hostRunning("server", false);
    mock.timers.tick(30 * SECOND);
    assert.match(
      poisonOf(service)?.reason ?? "",
      /: client-1 waits for message "go" \(nobody else sent it\), client-2 waits .*, server runs no script$/,
    );
    assert.deepEqual(
      (await Promise.all(waits)).map((a) => a.code),
      [SYNC_EXIT.POISONED, SYNC_EXIT.POISONED],
    );
    service.close();
  });

  it("waits that are satisfied in time are no deadlock", async () => {
    const { service, ctl } = job(30 * SECOND);
    const first = [ctl("server", "barrier", "ready"), ctl("client-1", "barrier", "ready")];
    mock.timers.tick(29 * SECOND);
    const last = ctl("client-2", "barrier", "ready");
    assert.deepEqual(
      (await Promise.all([...first, last])).map((a) => a.code),
      [0, 0, 0],
    );
    for (const h of ["server", "client-1", "client-2"]) service.hostRunning(h, false);
    mock.timers.tick(60 * 60 * SECOND);
    assert.equal(poisonOf(service), undefined);
    service.close();
  });

  it("a wait with --timeout is left to its own timeout", async () => {
    const { service, ctl } = job(30 * SECOND);
    const timed = ctl("server", "wait", "go", "--timeout", "5m");
    void ctl("client-1", "wait", "go");
    service.hostRunning("client-2", false);
    mock.timers.tick(5 * 60 * SECOND - 1);
    assert.equal(poisonOf(service), undefined);
    mock.timers.tick(1);
    assert.equal((await timed).code, SYNC_EXIT.TIMEOUT);
    // The server's script goes on after its 124; once it ends, client-1 waits in vain.
    mock.timers.tick(60 * SECOND);
    assert.equal(poisonOf(service), undefined);
    service.hostRunning("server", false);
    mock.timers.tick(30 * SECOND);
    assert.equal(poisonOf(service)?.code, "E_DEADLOCK");
    service.close();
  });

  it("without a deadlock timeout, or once the job is poisoned or closed, nothing is declared", async () => {
    const off = job();
    const w = off.ctl("server", "wait", "go");
    for (const h of ["client-1", "client-2"]) off.service.hostRunning(h, false);
    mock.timers.tick(24 * 60 * 60 * SECOND);
    assert.equal(poisonOf(off.service), undefined);
    off.service.close();
    assert.equal((await w).code, SYNC_EXIT.UNAVAILABLE);

    const failed = job(30 * SECOND);
    void failed.ctl("server", "wait", "go");
    failed.service.poison("client-1", "exit status 1");
    mock.timers.tick(60 * SECOND);
    assert.deepEqual(failed.poisons, [{ host: "client-1", reason: "exit status 1" }]);
    failed.service.close();
    await settled();
  });
});
