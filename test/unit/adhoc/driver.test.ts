import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAdhocDriver, splitAddress } from "../../../src/backends/adhoc/index.js";
import { parseSshG } from "../../../src/backends/ssh/known-hosts.js";
import { TroupeError } from "../../../src/util/errors.js";
import { backend, events, recorder, system } from "../ssh/fakes.js";

let project = "";
let server: Server;
let port = 0;
before(async () => {
  project = await mkdtemp(join(tmpdir(), "troupe-adhocdrv-"));
  server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  port = typeof addr === "object" && addr ? addr.port : 0;
});
after(async () => {
  server.close();
  await rm(project, { recursive: true, force: true });
});

const resolveConfig = async () => parseSshG("userknownhostsfile ~/.ssh/known_hosts\n");

function make(allocate: string, discard: string, sys = system("ubuntu"), rec = recorder()) {
  const ev = events();
  const driver = createAdhocDriver(
    backend("adhoc", [sys], { allocate, discard }),
    { runDir: join(project, "run"), projectDir: project, remotePath: "/tmp/troupe-adhoc-test/project", events: ev.stream },
    {
      factory: rec.factory,
      resolveConfig,
      password: "session-pw",
      retryMs: 20,
      allocateTimeoutMs: 2000,
      portTimeoutMs: 300,
      connectTimeoutMs: 300,
      pollMs: 20,
    },
  );
  return { driver, ev, rec, sys };
}

describe("adhoc driver", () => {
  it("runs allocate with Spread's variables, connects to ADDRESS, and runs discard with the address", async () => {
    const allocate = `env | grep -E '^(SPREAD|TROUPE)_' | sort > alloc.env\nADDRESS 127.0.0.1:${port}`;
    const discard = 'echo "$SPREAD_SYSTEM_ADDRESS $SPREAD_SYSTEM" > discard.txt';
    const { driver, rec, sys } = make(allocate, discard, system("ubuntu", {}, { username: "admin" }));
    const host = await driver.allocate(sys, 1);
    assert.equal(host.address, "127.0.0.1");
    assert.equal(host.name, "ubuntu-1");
    assert.equal(host.projectPath, "/tmp/troupe-adhoc-test/project");
    const env = await readFile(join(project, "alloc.env"), "utf8");
    for (const line of [
      "SPREAD_BACKEND=fleet",
      "SPREAD_SYSTEM=ubuntu",
      "SPREAD_SYSTEM_USERNAME=admin",
      "SPREAD_SYSTEM_PASSWORD=",
      "SPREAD_SYSTEM_ADDRESS=",
      "SPREAD_PASSWORD=session-pw",
      "TROUPE_SYSTEM=ubuntu",
    ]) {
      assert.ok(env.split("\n").includes(line), `missing ${line} in\n${env}`);
    }
    const conn = rec.connections[0];
    assert.ok(conn);
    assert.deepEqual([conn.host, conn.port, conn.user, conn.password], ["127.0.0.1", port, "admin", "session-pw"]);
    await driver.discard(host);
    await driver.discard(host);
    assert.equal(await readFile(join(project, "discard.txt"), "utf8"), `127.0.0.1:${port} ubuntu\n`);
  });

  it("connects as root with the system's own password and hides SPREAD_PASSWORD then", async () => {
    const { driver, rec, sys } = make(
      `[ -z "\${SPREAD_PASSWORD+x}" ] || FATAL "SPREAD_PASSWORD is set"\nADDRESS 127.0.0.1:${port}`,
      "",
      system("deb", {}, { password: "pw1" }),
    );
    const host = await driver.allocate(sys, 1);
    assert.equal(rec.connections[0]?.user, "root");
    assert.deepEqual(rec.passwords, ["pw1"]);
    await driver.discard(host);
  });

  it("retries ERROR and plain failures, telling each new reason once", async () => {
    const allocate = [
      "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count",
      '[ $n -ge 2 ] || ERROR "busy"',
      '[ $n -ge 3 ] || ERROR "busy"',
      "[ $n -ge 4 ] || false",
      `ADDRESS 127.0.0.1:${port}`,
    ].join("\n");
    const { driver, ev, sys } = make(allocate, "");
    await rm(join(project, "count"), { force: true });
    const host = await driver.allocate(sys, 1);
    assert.equal(await readFile(join(project, "count"), "utf8"), "4\n");
    const warnings = ev.seen.filter((e) => e.type === "message").map((e) => (e.type === "message" ? e.text : ""));
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.equal(warnings[0], "Cannot allocate fleet:ubuntu: busy");
    assert.match(warnings[1] ?? "", /^Cannot allocate fleet:ubuntu: exit status 1:/);
    assert.ok(ev.seen.some((e) => e.type === "output" && e.phase === "allocate" && e.line === "<ERROR busy>"));
    await driver.discard(host);
  });

  it("gives up at once on FATAL", async () => {
    const { driver, sys } = make('echo x >> fatal-count\nFATAL "no such image: $SPREAD_SYSTEM"', "");
    await rm(join(project, "fatal-count"), { force: true });
    await assert.rejects(driver.allocate(sys, 1), (e: unknown) => {
      assert.ok(e instanceof TroupeError);
      assert.equal(e.code, "E_BACKEND");
      assert.equal(e.message, "cannot allocate fleet:ubuntu: no such image: ubuntu");
      return true;
    });
    assert.equal(await readFile(join(project, "fatal-count"), "utf8"), "x\n");
  });

  it("gives up after the allocation timeout", async () => {
    const { driver, sys } = make('ERROR "still busy"', "");
    await assert.rejects(driver.allocate(sys, 1), /cannot allocate fleet:ubuntu: still busy/);
  });

  it("requires ADDRESS", async () => {
    const { driver, sys } = make("echo allocated", "");
    await assert.rejects(driver.allocate(sys, 1), /allocate must report the machine with ADDRESS/);
  });

  it("discards a machine whose SSH port never opens, as an infrastructure error", async () => {
    const { driver, sys } = make("ADDRESS 127.0.0.1:1", 'echo "$SPREAD_SYSTEM_ADDRESS" > unreachable.txt');
    await assert.rejects(driver.allocate(sys, 1), (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT");
    assert.equal(await readFile(join(project, "unreachable.txt"), "utf8"), "127.0.0.1:1\n");
  });

  it("discards a machine it cannot log into", async () => {
    const { driver, sys } = make(`ADDRESS 127.0.0.1:${port}`, "echo gone > refused.txt", system("ubuntu"), recorder({ exitCode: 255 }));
    await assert.rejects(driver.allocate(sys, 1), (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT");
    assert.equal(await readFile(join(project, "refused.txt"), "utf8"), "gone\n");
  });

  it("reports a failing discard", async () => {
    const { driver, sys } = make(`ADDRESS 127.0.0.1:${port}`, 'ERROR "cannot delete vm"');
    const host = await driver.allocate(sys, 1);
    await assert.rejects(driver.discard(host), /cannot discard fleet:ubuntu at 127\.0\.0\.1:\d+: cannot delete vm/);
  });

  it("splits addresses as Spread does (port 22 by default)", () => {
    assert.deepEqual(splitAddress("host"), { host: "host", port: 22 });
    assert.deepEqual(splitAddress("10.0.0.1:2222"), { host: "10.0.0.1", port: 2222 });
    assert.deepEqual(splitAddress("[::1]:2200"), { host: "::1", port: 2200 });
    assert.deepEqual(splitAddress("fe80::1"), { host: "fe80::1", port: 22 });
  });
});
