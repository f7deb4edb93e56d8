// A job session around a host's REBOOT, on local processes: the host's relay
// stops without poisoning the job and starts again after the backend's
// reboot (here: what a reboot does to the host's /tmp), with its state and
// what its script passed kept; a host that does not come back poisons the
// job, named. The whole path through a real reboot is
// test/integration/cli/multihost-reboot.test.ts (lab hosts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import type { Poison } from "../../../src/sync/errors.js";
import { TroupeError } from "../../../src/util/errors.js";
import { fleet } from "./helpers.js";

test("a host's reboot stops its relay without poisoning; the others keep waiting; it resumes where it was", async () => {
  const f = await fleet({ node: 1, peer: 1 });
  try {
    const [node] = f.hosts;
    f.session.scriptStarting!(node!);
    const [n1, p1] = await Promise.all([
      f.run("node", "troupe-ctl barrier one && troupe-ctl kv set k before"),
      f.run("peer", "troupe-ctl barrier one"),
    ]);
    assert.deepEqual([n1.code, p1.code], [0, 0], n1.stderr + p1.stderr);
    const peer = f.run("peer", 'troupe-ctl send hi x=1 && troupe-ctl barrier two && echo "peer: $(troupe-ctl kv get k)"');
    await f.session.sync.wait("hi");

    let during: { poisoned: Poison | undefined; relayDir: boolean } | undefined;
    const dir = f.ctlDir("node");
    await f.session.reboot!(node!, async () => {
      during = { poisoned: f.session.service.poisoned, relayDir: existsSync(dir) };
      rmSync(dir, { recursive: true, force: true }); // what a reboot does to /tmp
    });
    assert.deepEqual(during, { poisoned: undefined, relayDir: false }, "the relay stopped (and cleaned up) before the reboot");

    // The script runs again from the top: `one` was passed before, and is not waited for again.
    const n2 = await f.run(
      "node",
      'troupe-ctl barrier one && troupe-ctl barrier two && echo "node: $(troupe-ctl kv get k) $(troupe-ctl wait hi)"',
    );
    assert.equal(n2.code, 0, n2.stderr);
    assert.equal(n2.stdout, "node: before x=1\n");
    const p2 = await peer;
    assert.equal(p2.code, 0, p2.stderr);
    assert.equal(p2.stdout, "peer: before\n");
    assert.equal(f.session.service.poisoned, undefined);
  } finally {
    await f.close();
  }
});

test("a host that does not come back from its reboot poisons the job, named; the host waiting for it fails at once", async () => {
  const f = await fleet({ node: 1, peer: 1 });
  try {
    const [node] = f.hosts;
    const peer = f.run("peer", "troupe-ctl barrier two");
    await assert.rejects(
      f.session.reboot!(node!, () => Promise.reject(new TroupeError("E_BACKEND", "sshd of host lab-1 did not answer within 30 s"))),
      /did not answer within 30 s/,
    );
    assert.deepEqual(f.session.service.poisoned, {
      host: "node",
      reason: "did not come back from its reboot: sshd of host lab-1 did not answer within 30 s",
    });
    const p = await peer;
    assert.equal(p.code, 125, p.stderr);
    assert.match(p.stderr, /barrier two: poisoned: host node failed: did not come back from its reboot: sshd of host lab-1 did not answer/);
  } finally {
    await f.close();
  }
});
