// Three real lab hosts through the backend driver and the SSH transport.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLabDriver, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { readRecord } from "../../../src/backends/lab/records.js";
import { stopHost } from "../../../src/backends/lab/host.js";
import { childrenOf } from "../../../src/backends/lab/procs.js";
import { SshTransport } from "../../../src/transport/ssh/index.js";
import { TroupeError } from "../../../src/util/errors.js";
import { backend, context, linkNames, mounts, netnsList, pidAlive, sh, system, until } from "./fixtures.js";

describe("lab hosts", () => {
  const sys = system("debian-12", { password: "lab-pass-1" });
  const ctx = context("/srv/project");
  let driver: BackendDriver;
  let hosts: Host[] = [];
  let a: Host;
  let b: Host;
  let c: Host;
  const marker = `troupe-lab-test-${process.pid}-${Date.now()}`;
  // A filesystem of the machine other than its root (here a bind mount; /home or /var on their own disk alike).
  const bindSource = `/var/tmp/${marker}-src`;
  const bindTarget = `/mnt/${marker}`;

  before(async () => {
    mkdirSync(bindSource, { recursive: true });
    mkdirSync(bindTarget, { recursive: true });
    writeFileSync(join(bindSource, "on-the-other-fs"), "other fs\n");
    execFileSync("mount", ["--bind", bindSource, bindTarget]);
    driver = createLabDriver(backend([sys]), ctx);
    hosts = await Promise.all([1, 2, 3].map((i) => driver.allocate(sys, i)));
    [a, b, c] = hosts as [Host, Host, Host];
  });

  after(async () => {
    await driver.close?.();
    rmSync(ctx.runDir, { recursive: true, force: true });
    execFileSync("umount", [bindTarget]);
    rmSync(bindTarget, { recursive: true, force: true });
    rmSync(bindSource, { recursive: true, force: true });
  });

  it("gives each host its own name, hostname, address and the project path", async () => {
    assert.deepEqual(
      hosts.map((h) => h.name),
      ["debian-12-1", "debian-12-2", "debian-12-3"],
    );
    assert.equal(new Set(hosts.map((h) => h.address)).size, 3);
    for (const h of hosts) {
      assert.match(h.address, /^10\.213\.\d+\.\d+$/);
      assert.equal(h.projectPath, "/srv/project");
      assert.equal(h.backend, "lab");
      assert.equal(h.system, "debian-12");
      const r = await sh(h.transport, "hostname; ip -o -4 addr show dev eth0; echo $$");
      const [hostname, addr] = r.out.split("\n");
      assert.equal(hostname, h.name);
      assert.match(addr ?? "", new RegExp(` ${h.address.replace(/\./g, "\\.")}/16 `));
    }
  });

  it("keeps a file written to /etc on one host away from the others and from the machine", async () => {
    const path = `/etc/${marker}`;
    assert.equal((await sh(a.transport, `echo written-on-a > ${path}; cat ${path}`)).out, "written-on-a\n");
    for (const other of [b, c]) {
      const r = await sh(other.transport, `test -e ${path} && echo present || echo absent`);
      assert.equal(r.out, "absent\n");
    }
    assert.equal(existsSync(path), false);
    // The machine's own files are there to read, copy-on-write.
    assert.equal((await sh(b.transport, "cat /etc/os-release")).out, readFileSync("/etc/os-release", "utf8"));
  });

  it("shows the machine's other filesystems, copy-on-write too", async () => {
    const r = await sh(
      b.transport,
      `cat ${bindTarget}/on-the-other-fs && echo changed > ${bindTarget}/on-the-other-fs && echo new > ${bindTarget}/new`,
    );
    assert.equal(r.out, "other fs\n", r.err);
    assert.equal(readFileSync(join(bindSource, "on-the-other-fs"), "utf8"), "other fs\n");
    assert.equal(existsSync(join(bindSource, "new")), false);
    assert.equal((await sh(c.transport, `cat ${bindTarget}/on-the-other-fs`)).out, "other fs\n");
  });

  it("lets hosts reach each other's sshd by address", async () => {
    // /dev/tcp is bash's.
    const viaBash = await sh(a.transport, `bash -c 'exec 3<>/dev/tcp/${b.address}/22 && head -c 4 <&3'`);
    assert.equal(viaBash.out, "SSH-", viaBash.err);
    const fromC = await sh(c.transport, `bash -c 'exec 3<>/dev/tcp/${a.address}/22 && head -c 4 <&3'`);
    assert.equal(fromC.out, "SSH-");
  });

  it("runs scripts with env and cwd, streams stdout and stderr, and reports the exit status", async () => {
    const r = await sh(a.transport, 'echo "$GREETING from $(pwd)"; echo "to stderr" >&2; exit 7', {
      env: { GREETING: 'it\'s "quoted" $HOME', EMPTY: "" },
      cwd: "/usr/share",
    });
    assert.equal(r.code, 7);
    assert.equal(r.out, `it's "quoted" $HOME from /usr/share\n`);
    assert.equal(r.err, "to stderr\n");
    // 255 from the script is the script's, not ssh's.
    const s = await sh(a.transport, "exit 255");
    assert.equal(s.code, 255);
    // stdin reaches the script.
    const t = await sh(a.transport, "tr a-z A-Z", { stdin: "hello\n" });
    assert.equal(t.out, "HELLO\n");
    // Many sessions at once over one connection.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => sh(b.transport, `echo ${i}`)));
    assert.deepEqual(
      many.map((m) => m.out),
      Array.from({ length: 20 }, (_, i) => `${i}\n`),
    );
  });

  it("runs scripts too long for one command line", async () => {
    const filler = `: ${"x".repeat(1000)}\n`.repeat(150);
    const r = await sh(a.transport, `${filler}echo long script ran; ls /tmp | grep -c troupe-script || true`);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "long script ran\n0\n");
  });

  it("puts a tarball into a directory and gets files back as a tar stream", async () => {
    const src = mkdtempSync(join(tmpdir(), "troupe-lab-put-"));
    const back = mkdtempSync(join(tmpdir(), "troupe-lab-get-"));
    try {
      mkdirSync(join(src, "sub dir"));
      writeFileSync(join(src, "top.txt"), "top\n");
      writeFileSync(join(src, "sub dir", "inner.bin"), Buffer.from([0, 1, 2, 255]));
      const archive = tar.c({ cwd: src, gzip: true, portable: true }, ["top.txt", "sub dir"]) as unknown as Readable;
      await b.transport.put(archive, "/srv/project/new");
      const r = await sh(b.transport, "cat top.txt; od -An -tx1 'sub dir/inner.bin'", { cwd: "/srv/project/new" });
      assert.equal(r.out.replace(/\s+/g, " ").trim(), "top 00 01 02 ff");
      await sh(b.transport, "mkdir -p /var/out && echo result > /var/out/r.txt");
      const got = await b.transport.get("/var/out", ["r.txt"]);
      await pipeline(got, tar.x({ cwd: back }));
      assert.equal(readFileSync(join(back, "r.txt"), "utf8"), "result\n");
      // A missing path is an error of the stream.
      const missing = await b.transport.get("/var/out", ["nope.txt"]);
      await assert.rejects(pipeline(missing, tar.x({ cwd: back })), /nope\.txt|tar/);
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(back, { recursive: true, force: true });
    }
  });

  it("kills the whole process group of an aborted script, children included", async () => {
    const ac = new AbortController();
    const running = sh(c.transport, "sleep 1000 & echo $! > /tmp/bg.pid; sleep 1000", { signal: ac.signal });
    await until("the background child", async () => (await sh(c.transport, "cat /tmp/bg.pid 2>/dev/null")).out.trim() !== "");
    const bg = (await sh(c.transport, "cat /tmp/bg.pid")).out.trim();
    assert.equal((await sh(c.transport, `kill -0 ${bg} && echo alive`)).out, "alive\n");
    ac.abort();
    const r = await running;
    assert.equal(r.code, null);
    assert.equal(r.signal, "SIGTERM");
    await until(
      "no sleep left on the host",
      async () => (await sh(c.transport, "ps -eo comm | grep -cx sleep || true")).out.trim() === "0",
    );
    assert.equal((await sh(c.transport, `kill -0 ${bg} 2>/dev/null && echo alive || echo gone`)).out, "gone\n");
  });

  it("logs in with the system's password through the askpass helper", async () => {
    const t = new SshTransport({
      host: a.address,
      user: "root",
      password: "lab-pass-1",
      configFile: "/dev/null",
      knownHostsFile: join(LAB_STATE_DIR, "hosts", String(a.data?.["slot"]), "known_hosts"),
      strictHostKeyChecking: "yes",
      options: { PubkeyAuthentication: "no", PreferredAuthentications: "password" },
      connectAttempts: 1,
    });
    try {
      assert.equal((await sh(t, "hostname")).out, `${a.name}\n`);
    } finally {
      await t.close();
    }
    const wrong = new SshTransport({
      host: a.address,
      user: "root",
      password: "not-it",
      configFile: "/dev/null",
      knownHostsFile: join(LAB_STATE_DIR, "hosts", String(a.data?.["slot"]), "known_hosts"),
      strictHostKeyChecking: "yes",
      options: { PubkeyAuthentication: "no", PreferredAuthentications: "password" },
    });
    await assert.rejects(
      wrong.exec({ script: "true" }),
      (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT" && /Permission denied/.test(e.message),
    );
    await wrong.close();
  });

  it("gives an interactive session a terminal of its own", async () => {
    const here = fileURLToPath(import.meta.url);
    const child = join(here, "..", `child${here.endsWith(".ts") ? ".ts" : ".js"}`);
    const command = [process.execPath, ...process.execArgv, child].map((w) => `'${w}'`).join(" ");
    const out = execFileSync("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, TROUPE_LAB_TEST_CHILD: "interactive", TROUPE_LAB_TEST_SLOT: String(b.data?.["slot"]) },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.match(out, /X=interactive in \/etc/);
    assert.match(out, /result \{"exitCode":3,"signal":null\}/);
  });

  it("fails with E_TRANSPORT when nothing listens, after retrying", async () => {
    const t = new SshTransport({ host: a.address, port: 2, configFile: "/dev/null", connectAttempts: 2, backoffMs: 50 });
    await assert.rejects(
      t.exec({ script: "true" }),
      (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT" && /refused/i.test(e.message),
    );
    await t.close();
    await assert.rejects(t.exec({ script: "true" }), (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT");
  });

  it("reboots a host: files stay, processes start afresh", async () => {
    const before = await sh(
      a.transport,
      "echo kept > /root/reboot-file; setsid sleep 2000 < /dev/null > /dev/null 2>&1 & echo $!; cat /proc/1/stat | cut -d' ' -f22",
    );
    const [sleeper, oldBoot] = before.out.trim().split("\n");
    assert.ok(sleeper && oldBoot);
    assert.equal((await sh(a.transport, `kill -0 ${sleeper} && echo alive`)).out, "alive\n");
    await driver.reboot!(a);
    const afterReboot = await sh(
      a.transport,
      `cat /root/reboot-file; pgrep -x sleep | wc -l; hostname; cat /proc/1/stat | cut -d' ' -f22; cat /etc/${marker}`,
    );
    const [file, sleeps, hostname, newBoot, etc] = afterReboot.out.trim().split("\n");
    assert.equal(file, "kept");
    assert.equal(sleeps, "0");
    assert.equal(hostname, a.name);
    assert.notEqual(newBoot, oldBoot);
    assert.equal(etc, "written-on-a");
  });

  it("reports a connection lost under a running script as E_TRANSPORT", async () => {
    const rec = await readRecord(LAB_STATE_DIR, c.data?.["slot"] as number);
    assert.ok(rec);
    let started = false;
    const running = c.transport.exec({ script: "echo started; sleep 100", onStdout: () => (started = true) });
    const outcome = running.then(
      () => undefined,
      (e: unknown) => e,
    );
    await until("the script to start", () => started);
    await stopHost(rec);
    const err = await outcome;
    assert.ok(err instanceof TroupeError && err.code === "E_TRANSPORT", String(err));
    assert.match(err.message, /connection lost/);
  });

  it("discards hosts without a trace: netns, veth, mounts, processes, files", async () => {
    const recs = await Promise.all(hosts.map((h) => readRecord(LAB_STATE_DIR, h.data?.["slot"] as number)));
    for (const rec of recs) assert.ok(rec);
    // The first process inside each host (its sshd), seen from here.
    const inner = (await Promise.all(recs.map((r) => childrenOf(r!.init!.pid)))).flat();
    assert.ok(inner.length >= 2, "the hosts that are up have an inner init");
    await Promise.all(hosts.map((h) => driver.discard(h)));
    // Twice is fine.
    await driver.discard(a);
    const ns = netnsList();
    const links = linkNames();
    const m = mounts();
    for (const rec of recs) {
      assert.equal(pidAlive(rec!.init!.pid), false);
      // A lab test running beside this one may claim the freed slot at once:
      // then its names are in use again, by a host that is not ours.
      const now = await readRecord(LAB_STATE_DIR, rec!.slot);
      if (now) {
        assert.notEqual(now.createdAt + now.owner.pid, rec!.createdAt + rec!.owner.pid, `slot ${rec!.slot} still has our record`);
        continue;
      }
      assert.equal(ns.includes(rec!.netns), false, rec!.netns);
      assert.equal(links.includes(rec!.veth), false, rec!.veth);
      assert.equal(m.includes(`${rec!.dir}/`), false);
      assert.equal(existsSync(`/run/netns/${rec!.netns}`), false);
      assert.equal(existsSync(rec!.dir), false);
    }
    for (const id of inner) assert.equal(pidAlive(id.pid), false, `pid ${id.pid}`);
    // The host's log stays with the run.
    assert.match(readFileSync(join(ctx.runDir, "hosts", b.name, "lab.log"), "utf8"), /Server listening on/);
    await assert.rejects(a.transport.exec({ script: "true" }), TroupeError);
  });
});
