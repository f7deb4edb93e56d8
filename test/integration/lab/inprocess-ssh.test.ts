// The in-process SSH client on a real lab host, where it differs from a
// session of OpenSSH's: how it fails to connect (a refused port is retried,
// a wrong host key or login is not), what a connection lost under a running
// script gives, and that it connects again after a reset. What every
// transport must do (streams, statuses, kills, put and get) is in
// ssh-modes.test.ts and lab.test.ts.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import ssh2 from "ssh2";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLabDriver, labTransport, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { labPaths } from "../../../src/backends/lab/layout.js";
import { readRecord, type LabHostRecord } from "../../../src/backends/lab/records.js";
import { childrenOf } from "../../../src/backends/lab/procs.js";
import {
  ConnectError,
  InProcessSshTransport,
  type ConnectAttempt,
  type InProcessSshOptions,
} from "../../../src/transport/inprocess-ssh/index.js";
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
    // Permanent: one attempt, no backoff of 5 s, let alone two.
    await assert.rejects(
      t.exec({ script: "true" }),
      (e: unknown) =>
        isTransportError(/cannot connect to .*host key verification failed/)(e) &&
        e instanceof ConnectError &&
        e.reason === "host-key" &&
        e.attempts === 1,
    );
    await t.close();
    // A record that holds no key at all is as final.
    const garbled = new InProcessSshTransport({ ...target, hostKeys: ["10.213.0.2 garbage"], connectAttempts: 3, backoffMs: 5000 });
    await assert.rejects(
      garbled.exec({ script: "true" }),
      (e: unknown) =>
        isTransportError(/cannot connect to .*not a public key line/)(e) &&
        e instanceof ConnectError &&
        e.reason === "config" &&
        e.attempts === 0,
    );
    await garbled.close();
  });

  it("refuses a key the host does not accept, at once", async () => {
    const stranger = ssh2.utils.generateKeyPairSync("ed25519").private;
    const t = new InProcessSshTransport({ ...target, privateKey: stranger, connectAttempts: 3, backoffMs: 5000 });
    await assert.rejects(
      t.exec({ script: "true" }),
      (e: unknown) => isTransportError(/permission denied/i)(e) && e instanceof ConnectError && e.reason === "login" && e.attempts === 1,
    );
    await t.close();
    const garbled = new InProcessSshTransport({ ...target, privateKey: "not a key", backoffMs: 5000 });
    await assert.rejects(garbled.exec({ script: "true" }), isTransportError(/cannot read the private key/));
    await garbled.close();
  });

  it("retries a refused port with backoff, then fails with E_TRANSPORT naming the attempts", async () => {
    const t = new InProcessSshTransport({ ...target, port: 2, connectAttempts: 2, backoffMs: 50 });
    await assert.rejects(
      t.exec({ script: "true" }),
      (e: unknown) =>
        isTransportError(/cannot connect to .*\(root@10\.213\.\d+\.\d+:2\) after 2 attempts: .*ECONNREFUSED/)(e) &&
        e instanceof ConnectError &&
        e.reason === "refused" &&
        e.attempts === 2,
    );
    await t.close();
  });

  it("gives up on a lab host that cannot be reached after one attempt, and reaches it once it is back", async () => {
    const t = labTransport(LAB_STATE_DIR, rec);
    assert.ok(t instanceof InProcessSshTransport);
    // Unplugged from the bridge: nothing answers at its address (no refusal, no ICMP).
    execFileSync("ip", ["link", "set", rec.veth, "down"]);
    try {
      await assert.rejects(
        t.exec({ script: "true" }),
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === "E_TRANSPORT" &&
          e.reason === "unreachable" &&
          e.attempts === 1 &&
          /cannot connect to .*: no answer from 10\.213\.\d+\.\d+:22 within \d+ s/.test(e.message),
      );
    } finally {
      execFileSync("ip", ["link", "set", rec.veth, "up"]);
    }
    // The same transport: nothing of the failure sticks.
    assert.equal((await sh(t, "hostname")).out, `${host.name}\n`);
    await t.close();
  });

  it("gives up after one attempt on a host that takes the connection but says nothing (a stopped sshd)", async () => {
    const [sshd] = await childrenOf(rec.init!.pid);
    assert.ok(sshd, "the host's sshd");
    const t = new InProcessSshTransport({ ...target, connectTimeout: 2, connectAttempts: 3 });
    process.kill(sshd.pid, "SIGSTOP");
    try {
      await assert.rejects(
        t.exec({ script: "true" }),
        (e: unknown) =>
          e instanceof ConnectError && e.reason === "unreachable" && e.attempts === 1 && /said nothing within 2 s/.test(e.message),
      );
    } finally {
      process.kill(sshd.pid, "SIGCONT");
      await t.close();
    }
  });

  it("retries a port that is refused while the host's sshd is not up yet, and gets in once it is", async () => {
    const failures: ConnectAttempt[] = [];
    const t = new InProcessSshTransport({
      ...target,
      port: 2222,
      connectAttempts: 5,
      backoffMs: 10,
      onConnectFailed: (f) => {
        failures.push(f);
        // The host's sshd comes up now (it forks once it listens).
        if (failures.length === 1) {
          execFileSync("nsenter", [
            `--target=${rec.init!.pid}`,
            "--all",
            "/usr/sbin/sshd",
            "-f",
            "/etc/troupe-lab/sshd_config",
            "-o",
            `ListenAddress=${rec.address}:2222`,
          ]);
        }
      },
    });
    try {
      assert.equal((await sh(t, "hostname")).out, `${host.name}\n`);
      assert.deepEqual(
        failures.map((f) => [f.attempt, f.reason, f.retrying]),
        [[1, "refused", true]],
      );
    } finally {
      await t.close();
    }
  });

  it("stops retrying a refused port once its retry window is over", async () => {
    const failures: ConnectAttempt[] = [];
    const t = new InProcessSshTransport({
      ...target,
      port: 2,
      connectAttempts: 1000,
      backoffMs: 10,
      retryForMs: 300,
      onConnectFailed: (f) => failures.push(f),
    });
    await assert.rejects(t.exec({ script: "true" }), (e: unknown) => e instanceof ConnectError && e.reason === "refused");
    const last = failures.at(-1)!;
    assert.ok(failures.length > 1 && failures.length < 1000, `${failures.length} attempts`);
    assert.equal(last.retrying, false);
    assert.ok(failures.slice(0, -1).every((f) => f.retrying));
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
