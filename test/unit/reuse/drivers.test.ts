// What each driver does to keep hosts between runs: reuse() takes back what
// an earlier run recorded, release() lets go without destroying. The ssh and
// adhoc drivers run with the ssh tests' transport double (scripts run on this
// machine); local hosts are real.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAdhocDriver } from "../../../src/backends/adhoc/index.js";
import type { Host, RecordedHost } from "../../../src/backends/backend.js";
import { createLocalDriver } from "../../../src/backends/local/index.js";
import { createSshDriver } from "../../../src/backends/ssh/index.js";
import { parseSshG } from "../../../src/backends/ssh/known-hosts.js";
import { backend, events, recorder, system } from "../ssh/fakes.js";

let project = "";
let server: Server;
let port = 0;
before(async () => {
  project = await mkdtemp(join(tmpdir(), "troupe-reuse-drv-"));
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

/** What the reuse session writes down for a host. */
const record = (h: Host): RecordedHost => ({
  backend: h.backend,
  system: h.system,
  name: h.name,
  address: h.address,
  ...(h.data ? { data: h.data } : {}),
});

describe("ssh driver reuse", () => {
  const remote = (): string => join(project, "ssh-remote");
  const make = (hosts: string, rec = recorder()) => {
    const s = system("edge", { hosts });
    const driver = createSshDriver(
      backend("ssh", [s]),
      { runDir: join(project, "run"), projectDir: project, remotePath: remote(), events: events().stream },
      { factory: rec.factory, resolveConfig },
    );
    return { driver, s, rec };
  };

  it("takes the same machine back, keeps its project directory at release, and removes it at discard if troupe made it", async () => {
    await rm(remote(), { recursive: true, force: true });
    const first = make("h1");
    const host = await first.driver.allocate(first.s, 1);
    await mkdir(remote(), { recursive: true });
    await writeFile(join(remote(), "f"), "sent");
    await first.driver.release!(host);
    assert.equal(await readFile(join(remote(), "f"), "utf8"), "sent", "release leaves the machine as it is");
    assert.equal(first.rec.closed, 1, "and closes the connection");

    const second = make("h1");
    const back = await second.driver.reuse!(second.s, record(host), "run");
    assert.ok(back);
    assert.equal(back.name, "h1");
    assert.equal(back.data?.["ownsProjectDir"], true);
    await assert.rejects(second.driver.allocate(second.s, 1), /all 1 host\(s\) are in use/);
    await second.driver.discard(back);
    assert.equal(existsSync(remote()), false, "troupe made the directory in the first run: discard removes it");
  });

  it("finds a recorded machine gone when the system no longer lists it", async () => {
    const { driver, s } = make("h2");
    const rec: RecordedHost = { backend: "ssh", system: "edge", name: "h1", address: "h1", data: { target: "h1" } };
    assert.equal(await driver.reuse!(s, rec, "run"), undefined);
    assert.equal(await driver.reuse!(system("gone-system"), rec, "run"), undefined);
  });
});

describe("adhoc driver reuse", () => {
  const make = (discard: string, rec = recorder()) => {
    const sys = system("ubuntu");
    const driver = createAdhocDriver(
      backend("adhoc", [sys], { allocate: `ADDRESS 127.0.0.1:${port}`, discard }),
      { runDir: join(project, "run"), projectDir: project, remotePath: "/tmp/troupe-adhoc-reuse/project", events: events().stream },
      {
        factory: rec.factory,
        resolveConfig,
        password: `pw-${Math.random()}`,
        retryMs: 20,
        portTimeoutMs: 300,
        connectTimeoutMs: 300,
        pollMs: 20,
      },
    );
    return { driver, sys, rec };
  };

  it("records the run's session password, and a later run connects with it", async () => {
    const first = make("");
    const host = await first.driver.allocate(first.sys, 1);
    const pw = host.data?.["password"];
    assert.equal(typeof pw, "string");
    await first.driver.release!(host);

    const second = make("");
    const back = await second.driver.reuse!(second.sys, record(host), "run");
    assert.equal(back?.address, "127.0.0.1");
    assert.deepEqual(second.rec.passwords, [pw]);
    await second.driver.release!(back);
  });

  it("discards a recorded machine with the discard script and its ADDRESS, without connecting", async () => {
    const { driver, sys, rec } = make('echo "$SPREAD_SYSTEM_ADDRESS" > reuse-discarded.txt');
    // As Spread records an adhoc machine: the address as allocate printed it, no data.
    const spread: RecordedHost = { backend: "adhoc", system: "ubuntu", name: "ubuntu-1", address: "10.1.2.3:2222", password: "pw" };
    const host = await driver.reuse!(sys, spread, "discard");
    assert.ok(host);
    await assert.rejects(host.transport.exec({ script: "true" }), /not connected/);
    await driver.discard(host);
    assert.equal(await readFile(join(project, "reuse-discarded.txt"), "utf8"), "10.1.2.3:2222\n");
    assert.equal(rec.connections.length, 0);
  });
});

describe("local driver reuse", () => {
  it("takes back a kept working copy, finds a removed one gone, and removes the copy at discard", async () => {
    const ctx = { runDir: join(project, "local-run-1"), projectDir: project, remotePath: "/unused", events: events().stream };
    const b = backend("local", [system("box")]);
    const first = createLocalDriver(b, ctx);
    const host = await first.allocate(b.systems[0]!, 1);
    await writeFile(join(host.projectPath, "data.txt"), "one");
    await first.release!(host);
    assert.ok(existsSync(join(host.projectPath, "data.txt")));

    const second = createLocalDriver(b, { ...ctx, runDir: join(project, "local-run-2") });
    const back = await second.reuse!(b.systems[0]!, record(host), "run");
    assert.equal(back?.projectPath, host.projectPath);
    const r = await back.transport.exec({ script: `cat ${back.projectPath}/data.txt` });
    assert.equal(r.exitCode, 0);
    await second.discard(back);
    assert.equal(existsSync(host.projectPath), false);
    assert.equal(await second.reuse!(b.systems[0]!, record(host), "run"), undefined);
    await second.close?.();
  });
});
