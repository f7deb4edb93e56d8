// The in-process SSH client on a real lab host, where it differs from a
// session of OpenSSH's: how it fails to connect (a refused port is retried,
// a wrong host key or login is not), what a connection lost under a running
// script gives, and that it connects again after a reset. What every
// transport must do (streams, statuses, kills, put and get) is in
// ssh-modes.test.ts and lab.test.ts.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import ssh2 from "ssh2";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLabDriver, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { labPaths } from "../../../src/backends/lab/layout.js";
import { readRecord, type LabHostRecord } from "../../../src/backends/lab/records.js";
import { InProcessSshTransport, type InProcessSshOptions } from "../../../src/transport/inprocess-ssh/index.js";
import { TroupeError } from "../../../src/util/errors.js";
import { backend, context, sh, system } from "./fixtures.js";

const isTransportError = (pattern: RegExp) => (e: unknown) =>
  e instanceof TroupeError && e.code === "E_TRANSPORT" && pattern.test(e.message);

describe("in-process ssh client on a lab host", () => {
  const sys = system("inproc");
  const ctx = context("/srv/project");
  let driver: BackendDriver;
  let host: Host;
  let rec: LabHostRecord;
  let target: InProcessSshOptions;

  before(async () => {
    driver = createLabDriver(backend([sys]), ctx);
    host = await driver.allocate(sys, 1);
    const r = await readRecord(LAB_STATE_DIR, host.data?.["slot"] as number);
    assert.ok(r?.hostKey);
    rec = r;
    target = {
      label: rec.name,
      host: rec.address,
      user: "root",
      privateKey: readFileSync(labPaths(LAB_STATE_DIR).keyFile),
      hostKeys: [rec.hostKey!],
    };
  });

  after(async () => {
    await driver.close?.();
    rmSync(ctx.runDir, { recursive: true, force: true });
  });

  it("runs more commands at once than it has sessions for, each with its own output and status", async () => {
    const t = new InProcessSshTransport({ ...target, maxSessions: 3 });
    try {
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => sh(t, `echo out-${i}; echo err-${i} >&2; exit ${i}`)));
      assert.deepEqual(
        all.map((r) => [r.code, r.out, r.err]),
        Array.from({ length: 12 }, (_, i) => [i, `out-${i}\n`, `err-${i}\n`]),
      );
    } finally {
      await t.close();
    }
  });

  it("refuses a host whose key is not the one on record, at once", async () => {
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg4Wg2m9Q3kFf3hU2b8nR1m3yWz5nq0v6c8pXl5X0aZ";
    const t = new InProcessSshTransport({ ...target, hostKeys: [other], connectAttempts: 3, backoffMs: 5000 });
    const started = Date.now();
    await assert.rejects(t.exec({ script: "true" }), isTransportError(/cannot connect to .*host key verification failed/));
    // Permanent: no backoff of 5 s, let alone two.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await t.close();
    // A record that holds no key at all is as final.
    const garbled = new InProcessSshTransport({ ...target, hostKeys: ["10.213.0.2 garbage"], connectAttempts: 3, backoffMs: 5000 });
    const again = Date.now();
    await assert.rejects(garbled.exec({ script: "true" }), isTransportError(/cannot connect to .*not a public key line/));
    assert.ok(Date.now() - again < 5000, `took ${Date.now() - again} ms`);
    await garbled.close();
  });

  it("refuses a key the host does not accept, at once", async () => {
    const stranger = ssh2.utils.generateKeyPairSync("ed25519").private;
    const t = new InProcessSshTransport({ ...target, privateKey: stranger, connectAttempts: 3, backoffMs: 5000 });
    const started = Date.now();
    await assert.rejects(t.exec({ script: "true" }), isTransportError(/permission denied/i));
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await t.close();
    const garbled = new InProcessSshTransport({ ...target, privateKey: "not a key", backoffMs: 5000 });
    await assert.rejects(garbled.exec({ script: "true" }), isTransportError(/cannot read the private key/));
    await garbled.close();
  });

  it("retries a refused port with backoff, then fails with E_TRANSPORT naming the attempts", async () => {
    const t = new InProcessSshTransport({ ...target, port: 2, connectAttempts: 2, backoffMs: 50 });
    await assert.rejects(
      t.exec({ script: "true" }),
      isTransportError(/cannot connect to .*\(root@10\.213\.\d+\.\d+:2\) after 2 attempts: .*ECONNREFUSED/),
    );
    await t.close();
  });

  it("reports a connection lost under a running script as E_TRANSPORT, and connects again for the next command", async () => {
    const t = new InProcessSshTransport(target);
    try {
      // The script's parent is the wrapper; the wrapper's is sshd's process for this connection.
      const lost = sh(t, 'c=$(ps -o ppid= -p $PPID); echo "$c"; sleep 0.2; kill -9 $c; sleep 1032');
      await assert.rejects(lost, isTransportError(/connection lost while a script was running/));
      assert.equal(t.connected, false);
      assert.equal((await sh(t, "hostname")).out, `${host.name}\n`);
      assert.equal(t.connected, true);
      // What ran goes on without its connection, as under OpenSSH.
      assert.equal((await sh(t, "pkill -fx 'sleep 1032'; echo $?")).out, "0\n");
    } finally {
      await t.close();
    }
  });

  it("reset kills what runs and drops the connection; the next command connects again", async () => {
    const t = new InProcessSshTransport(target);
    try {
      const running = sh(t, "sleep 1031");
      await new Promise((r) => setTimeout(r, 300));
      await t.reset();
      const r = await running;
      assert.equal(r.code, null);
      assert.equal(t.connected, false);
      assert.equal((await sh(t, "pgrep -fxc 'sleep 1031' || true")).out.trim(), "0");
    } finally {
      await t.close();
    }
    await assert.rejects(t.exec({ script: "true" }), isTransportError(/closed/));
  });

  it("refuses an interactive session without a terminal transport to hand it to", async () => {
    const t = new InProcessSshTransport(target);
    await assert.rejects(t.exec({ script: "true", interactive: true }), isTransportError(/interactive/));
    await t.close();
  });
});
