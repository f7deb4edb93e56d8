// The ways to run a command on a real lab host besides a ControlMaster
// session: the in-process client (what lab hosts use by default), and the
// OpenSSH transport's connection per command with no master
// (`shareConnection: false`, what `troupe exec` uses on ssh hosts) and
// long-lived command session on the master (`commandSession`, what the
// fan-out API uses there). Each must behave like a session of its own: env,
// cwd, streams, statuses, kills, nothing left.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLabDriver, labTransport, LAB_STATE_DIR, openSshLabTransport, type LabTransport } from "../../../src/backends/lab/index.js";
import { readRecord, type LabHostRecord } from "../../../src/backends/lab/records.js";
import { SshTransport } from "../../../src/transport/ssh/index.js";
import { TroupeError } from "../../../src/util/errors.js";
import { backend, context, sh, system, until } from "./fixtures.js";

describe("ssh connection modes on a lab host", () => {
  const sys = system("modes");
  const ctx = context("/srv/project");
  let driver: BackendDriver;
  let host: Host;
  let rec: LabHostRecord;
  /** Looks at the host through the driver's own transport. */
  const look = async (script: string): Promise<string> => (await sh(host.transport, script)).out;

  before(async () => {
    driver = createLabDriver(backend([sys]), ctx);
    host = await driver.allocate(sys, 1);
    const r = await readRecord(LAB_STATE_DIR, host.data?.["slot"] as number);
    assert.ok(r);
    rec = r;
  });

  after(async () => {
    await driver.close?.();
    rmSync(ctx.runDir, { recursive: true, force: true });
  });

  const modes = {
    "in-process client": () => labTransport(LAB_STATE_DIR, rec),
    "in-process command session": () => labTransport(LAB_STATE_DIR, rec, undefined, { commandSession: true }),
    "one connection per command": () => openSshLabTransport(LAB_STATE_DIR, rec, undefined, { shareConnection: false }),
    "command session": () => openSshLabTransport(LAB_STATE_DIR, rec, undefined, { commandSession: true }),
  } satisfies Record<string, () => LabTransport>;

  for (const [mode, make] of Object.entries(modes)) {
    it(`${mode}: env, cwd, both streams, exit statuses (255 too), stdin, output with no final newline`, async () => {
      const t = make();
      try {
        const r = await sh(t, 'echo "$GREETING from $(pwd)"; echo "to stderr" >&2; exit 7', {
          env: { GREETING: 'it\'s "quoted" $HOME' },
          cwd: "/usr/share",
        });
        assert.deepEqual([r.code, r.out, r.err], [7, `it's "quoted" $HOME from /usr/share\n`, "to stderr\n"]);
        assert.equal((await sh(t, "exit 255")).code, 255);
        assert.equal((await sh(t, "tr a-z A-Z", { stdin: "hello\n" })).out, "HELLO\n");
        assert.equal((await sh(t, "printf 'no newline'")).out, "no newline");
        const many = await Promise.all(Array.from({ length: 6 }, (_, i) => sh(t, `echo ${i}`)));
        assert.deepEqual(
          many.map((m) => m.out),
          ["0\n", "1\n", "2\n", "3\n", "4\n", "5\n"],
        );
      } finally {
        await t.close();
      }
    });

    it(`${mode}: an aborted command's whole process group is killed on the host`, async () => {
      const t = make();
      const tag = 1020 + Object.keys(modes).indexOf(mode);
      try {
        const ac = new AbortController();
        const running = sh(t, `sleep ${tag} & sleep ${tag}`, { signal: ac.signal });
        await until("both sleeps", async () => (await look(`pgrep -a sleep | grep -c ' ${tag}$' || true`)).trim() === "2");
        ac.abort();
        const r = await running;
        assert.equal(r.code, null);
        assert.equal(r.signal, "SIGTERM");
        await until("no sleep left", async () => (await look(`pgrep -a sleep | grep -c ' ${tag}$' || true`)).trim() === "0");
      } finally {
        await t.close();
      }
    });
  }

  it("one connection per command: no master, and nothing of ssh left when it is done", async () => {
    const t = openSshLabTransport(LAB_STATE_DIR, rec, undefined, { shareConnection: false });
    await t.connect();
    assert.equal(t.masterPid, undefined);
    assert.equal((await sh(t, "hostname")).out, `${host.name}\n`);
    assert.equal(t.connected, false);
    await t.close();
  });

  it("one connection per command: an unreachable host fails with E_TRANSPORT after retrying, a refused key at once", async () => {
    const refused = new SshTransport({
      host: host.address,
      port: 2,
      configFile: "/dev/null",
      shareConnection: false,
      connectAttempts: 2,
      backoffMs: 50,
    });
    await assert.rejects(
      refused.exec({ script: "true" }),
      (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT" && /cannot connect to .*refused/i.test(e.message),
    );
    await refused.close();
    const started = Date.now();
    const noKey = new SshTransport({
      host: host.address,
      user: "root",
      configFile: "/dev/null",
      identityFile: "/dev/null",
      identitiesOnly: true,
      knownHostsFile: `${LAB_STATE_DIR}/hosts/${rec.slot}/known_hosts`,
      strictHostKeyChecking: "yes",
      shareConnection: false,
      connectAttempts: 3,
      backoffMs: 5000,
    });
    await assert.rejects(
      noKey.exec({ script: "true" }),
      (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT" && /Permission denied/.test(e.message),
    );
    // Permanent: no backoff of 5 s, let alone two.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await noKey.close();
  });

  for (const mode of ["command session", "in-process command session"] as const) {
    const make = modes[mode];
    it(`${mode}: later commands reuse one loop, each in a group and session of its own`, async () => {
      const t = make();
      try {
        // The script's parent is the wrapper (leader of its own group and
        // session); the wrapper's parent is the loop, the same for every command.
        const probe = "set -- $(ps -o pid= -o pgid= -o sid= -o ppid= -p $PPID); echo $1 $2 $3 $4";
        const a = (await sh(t, probe)).out.trim().split(" ");
        const b = (await sh(t, probe)).out.trim().split(" ");
        assert.equal(a.length, 4);
        assert.equal(a[0], a[1]);
        assert.equal(a[0], a[2]);
        assert.equal(b[0], b[1]);
        assert.notEqual(a[0], b[0]);
        assert.equal(a[3], b[3], "both commands came from the same loop");
      } finally {
        await t.close();
      }
      // Closed: the loop is gone from the host.
      await until("the loop ended", async () => (await look("pgrep -fc 'IFS[=] read -r h' || true")).trim() === "0");
    });

    it(`${mode}: what a command leaves running never writes into a later command's output`, async () => {
      const t = make();
      try {
        assert.equal((await sh(t, "(sleep 1; echo late; echo late-err >&2) & echo first")).out, "first\n");
        // The leftover still runs, and writes while this one runs: this one gets a session of its own.
        const second = await sh(t, "sleep 2; echo second");
        assert.deepEqual([second.out, second.err], ["second\n", ""]);
        const third = await sh(t, "echo third");
        assert.deepEqual([third.out, third.err], ["third\n", ""]);
      } finally {
        await t.close();
      }
    });
  }
});
