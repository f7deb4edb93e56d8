import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSshDriver, parseHostSpec, transportOptions } from "../../../src/backends/ssh/index.js";
import { parseSshG } from "../../../src/backends/ssh/known-hosts.js";
import { TroupeError } from "../../../src/util/errors.js";
import { backend, events, recorder, system } from "./fakes.js";

let project = "";
let remote = "";
before(async () => {
  project = await mkdtemp(join(tmpdir(), "troupe-sshdrv-"));
  remote = join(project, "remote-project");
  await writeFile(
    join(project, "hosts.ini"),
    "[web]\nweb[1:2].lan ansible_user=deploy\n[databases]\ndb.lan:2222 ansible_host=10.0.0.5 ansible_password=s3cret\n",
  );
});
after(async () => {
  await rm(project, { recursive: true, force: true });
});

const resolveConfig = async () => parseSshG("userknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2\nstricthostkeychecking ask\n");

function make(systems: ReturnType<typeof system>[], opts: { rec?: ReturnType<typeof recorder>; extra?: Record<string, unknown> } = {}) {
  const rec = opts.rec ?? recorder();
  const ev = events();
  const driver = createSshDriver(
    backend("ssh", systems, { extra: opts.extra ?? {} }),
    { runDir: join(project, "run"), projectDir: project, remotePath: remote, events: ev.stream },
    { factory: rec.factory, resolveConfig },
  );
  return { driver, rec, ev };
}

describe("host specs", () => {
  it("parses user, host, port and IPv6", () => {
    assert.deepEqual(parseHostSpec("root@node01:2222"), { user: "root", host: "node01", port: 2222 });
    assert.deepEqual(parseHostSpec("node01"), { host: "node01" });
    assert.deepEqual(parseHostSpec("[::1]:22"), { host: "::1", port: 22 });
    assert.deepEqual(parseHostSpec("fe80::1"), { host: "fe80::1" });
    assert.throws(() => parseHostSpec("n:99999"), /not a port number/);
    assert.throws(() => parseHostSpec("a b@n"), /not a user name/);
    assert.throws(() => parseHostSpec("n;rm"), /not a host name/);
  });
});

describe("ssh driver: which hosts a system stands for", () => {
  it("expands hostlists in hosts:, one worker per host", () => {
    const s = system("edge", { hosts: ["admin@edge[01-03].lan", "10.0.0.9:2200"] }, { username: "ops" });
    const { driver } = make([s]);
    assert.deepEqual(
      driver.targets(s).map((t) => [t.name, t.address, t.port, t.user]),
      [
        ["edge01.lan", "edge01.lan", undefined, "admin"],
        ["edge02.lan", "edge02.lan", undefined, "admin"],
        ["edge03.lan", "edge03.lan", undefined, "admin"],
        ["10.0.0.9:2200", "10.0.0.9", 2200, "ops"],
      ],
    );
    assert.equal(driver.workersFor?.(s), 4);
  });

  it("takes an inventory group named after the system, or the one group: names", () => {
    const web = system("web");
    const db = system("db", { group: "databases" }, { password: "ignored-for-inventory-password" });
    const { driver } = make([web, db], { extra: { inventory: "hosts.ini" } });
    assert.deepEqual(
      driver.targets(web).map((t) => [t.name, t.user]),
      [
        ["web1.lan", "deploy"],
        ["web2.lan", "deploy"],
      ],
    );
    assert.deepEqual(driver.targets(db), [{ name: "db.lan", address: "10.0.0.5", port: 2222, password: "s3cret" }]);
  });

  it("uses the system's name as the host without hosts: or inventory", () => {
    const s = system("my-alias");
    assert.deepEqual(make([s]).driver.targets(s), [{ name: "my-alias", address: "my-alias" }]);
  });

  it("lets workers: lower the count, and warns when it asks for more hosts than listed", () => {
    const fewer = system("a", { hosts: "n[1-4]" }, { workers: 2, where: { workers: { file: "troupe.yaml", line: 3, col: 5 } } });
    const more = system("b", { hosts: "m[1-2]" }, { workers: 5, where: { workers: { file: "troupe.yaml", line: 4, col: 5 } } });
    const { driver, ev } = make([fewer, more]);
    assert.equal(driver.workersFor?.(fewer), 2);
    assert.equal(driver.workersFor?.(more), 2);
    assert.ok(ev.seen.some((e) => e.type === "message" && /workers: 5 but only 2 host/.test(e.text)));
  });

  it("reports configuration mistakes of every system at once, with positions", () => {
    const pos = { file: "troupe.yaml", line: 7, col: 9 };
    assert.throws(
      () =>
        make([
          system("a", { hosts: ["n[1-"] }, { pos }),
          system("b", { sudo: "yes" }, { where: { sudo: pos } }),
          system("c", { group: "nope", inventory: "hosts.ini" }),
          system("d", { inventory: "missing.ini" }),
        ]),
      (e: unknown) => {
        assert.ok(e instanceof TroupeError);
        const msgs = e.problems.map((p) => p.message);
        assert.match(msgs[0] ?? "", /bad hostlist 'n\[1-'/);
        assert.equal(e.problems[0]?.pos?.line, 7);
        assert.match(msgs[1] ?? "", /sudo must be true or false/);
        assert.match(msgs[2] ?? "", /has no group 'nope' \(groups: all, web, databases\)/);
        assert.match(msgs[3] ?? "", /cannot read inventory .*missing\.ini: no such file/);
        return true;
      },
    );
  });
});

describe("ssh driver: hosts", () => {
  it("allocates the host at the worker's index, from a pool, and frees it at discard", async () => {
    const s = system("edge", { hosts: "h[1-2]" });
    const { driver, ev } = make([s]);
    const h2 = await driver.allocate(s, 2);
    assert.equal(h2.name, "h2");
    assert.equal(h2.address, "h2");
    assert.equal(h2.projectPath, remote);
    const h1 = await driver.allocate(s, 1);
    assert.equal(h1.name, "h1");
    await assert.rejects(driver.allocate(s, 1), /all 2 host\(s\) are in use/);
    await driver.discard(h1);
    await driver.discard(h1); // twice is fine
    assert.equal((await driver.allocate(s, 3)).name, "h1");
    assert.ok(ev.seen.some((e) => e.type === "host-step" && e.step === "connecting" && e.host === "h2"));
    await driver.close?.();
  });

  it("puts the project's known_hosts first and accepts new keys only there", async () => {
    const s = system("edge", { hosts: "u@h1:2201", "ssh-options": ["ProxyJump=bastion"] });
    const { driver, rec } = make([s], { extra: { "ssh-options": "ConnectTimeout=5" } });
    const host = await driver.allocate(s, 1);
    const conn = rec.connections[0];
    assert.ok(conn);
    const kh = join(project, ".troupe", "known_hosts");
    assert.equal(conn.knownHostsFile, kh);
    assert.equal((await stat(kh)).mode & 0o777, 0o600);
    assert.deepEqual(conn.options, [
      "-o",
      `UserKnownHostsFile=${kh} ~/.ssh/known_hosts ~/.ssh/known_hosts2`,
      "-o",
      "StrictHostKeyChecking=accept-new",
      "-o",
      "ConnectTimeout=5",
      "-o",
      "ProxyJump=bastion",
    ]);
    assert.deepEqual([conn.host, conn.port, conn.user, conn.password], ["h1", 2201, "u", undefined]);
    // What the OpenSSH transport gets: the same options as a map, the first value of each winning as in ssh.
    assert.deepEqual(transportOptions({ ...conn, options: [...conn.options, "-o", "connecttimeout=9"] }), {
      label: "h1:2201",
      host: "h1",
      port: 2201,
      user: "u",
      options: {
        UserKnownHostsFile: `${kh} ~/.ssh/known_hosts ~/.ssh/known_hosts2`,
        StrictHostKeyChecking: "accept-new",
        ConnectTimeout: "5",
        ProxyJump: "bastion",
      },
    });
    await driver.discard(host);
  });

  it("hands an inventory password to the transport, never as an ssh option", async () => {
    const s = system("db", { group: "databases" });
    const { driver, rec } = make([s], { extra: { inventory: "hosts.ini" } });
    const host = await driver.allocate(s, 1);
    const conn = rec.connections[0];
    assert.ok(conn);
    assert.deepEqual(rec.passwords, ["s3cret"]);
    assert.equal(transportOptions(conn).password, "s3cret");
    assert.ok(!JSON.stringify(conn.options).includes("s3cret"));
    await driver.discard(host);
  });

  it("wraps a non-root user in sudo, and refuses when sudo needs a password", async () => {
    const s = system("edge", { hosts: "h1" });
    const ok = make([s], { rec: recorder({ probe: "1000\ntester\nSUDO_OK\n" }) });
    const host = await ok.driver.allocate(s, 1);
    assert.deepEqual(host.data, { target: "h1", user: "tester", sudo: true, ownsProjectDir: true });
    await ok.driver.discard(host);

    const no = make([s], { rec: recorder({ probe: "1000\ntester\nsudo: a password is required\nSUDO_NO\n" }) });
    await assert.rejects(no.driver.allocate(s, 1), (e: unknown) => {
      assert.ok(e instanceof TroupeError);
      assert.equal(e.code, "E_BACKEND");
      assert.match(e.message, /user tester is not root and sudo asks for a password \(sudo: a password is required\)/);
      assert.match(e.message, /tester ALL=\(ALL\) NOPASSWD: ALL/);
      return true;
    });
    // The host went back to the pool.
    const off = make([system("edge", { hosts: "h1", sudo: false })], { rec: recorder({ probe: "1000\ntester\n" }) });
    const plain = await off.driver.allocate(system("edge", { hosts: "h1", sudo: false }), 1);
    assert.deepEqual(plain.data, { target: "h1", user: "tester", sudo: false, ownsProjectDir: true });
  });

  it("reports a dead connection as an infrastructure error and frees the host", async () => {
    const s = system("edge", { hosts: "h1" });
    const { driver, rec } = make([s], { rec: recorder({ exitCode: 255 }) });
    await assert.rejects(driver.allocate(s, 1), (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT");
    assert.equal(rec.closed, 1);
    const thrown = make([s], {
      rec: recorder({ throws: new TroupeError("E_TRANSPORT", "ssh: connect to host h1 port 22: Connection refused") }),
    });
    await assert.rejects(thrown.driver.allocate(s, 1), /Connection refused/);
    await assert.rejects(thrown.driver.allocate(s, 1), /Connection refused/); // not "in use"
  });

  it("removes the project directory at discard only when troupe created it", async () => {
    const s = system("edge", { hosts: "h1" });
    const { driver } = make([s]);
    await rm(remote, { recursive: true, force: true });
    const fresh = await driver.allocate(s, 1);
    await mkdir(remote, { recursive: true });
    await writeFile(join(remote, "f"), "x");
    await driver.discard(fresh);
    await assert.rejects(stat(remote));

    await mkdir(remote, { recursive: true });
    await writeFile(join(remote, "keep"), "mine");
    const existing = await driver.allocate(s, 1);
    await driver.discard(existing);
    assert.equal(await readFile(join(remote, "keep"), "utf8"), "mine");
  });

  it("refuses a project path that could wipe a machine", async () => {
    const s = system("edge", { hosts: "h1" });
    const rec = recorder();
    const driver = createSshDriver(
      backend("ssh", [s]),
      { runDir: project, projectDir: project, remotePath: "/home", events: events().stream },
      { factory: rec.factory, resolveConfig },
    );
    await assert.rejects(driver.allocate(s, 1), /project path '\/home' must be an absolute path of its own/);
  });
});
