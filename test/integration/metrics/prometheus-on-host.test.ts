// startPrometheusOn: the real Prometheus on a real lab host, driven through
// the host's SSH transport. It scrapes counters a service on that host serves
// with share/metrics/serve-metrics.sh, answers the orchestrator's queries at
// the host's address, and at stop() its data comes back into a directory of
// the orchestrator's. Each test checks only its own host and servers.
// Needs root, Linux, openssh-server (.ci/lab-deps.sh) and prometheus.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import * as tar from "tar";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLabDriver } from "../../../src/backends/lab/index.js";
import { queryValues, startPrometheusOn, type PrometheusServer } from "../../../src/index.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { backend, context, sh, system, until } from "../lab/fixtures.js";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, "..", "..", "..", "..");
const childScript = join(here, "child.js");

describe("Prometheus on a lab host", () => {
  const sys = system("prom");
  const ctx = context("/srv/project");
  let driver: BackendDriver;
  let host: Host;
  const services: AbortController[] = [];
  const local = mkdtempSync(join(tmpdir(), "troupe-prom-host-"));

  /** A long-running serve-metrics.sh on the host, counting `name` from `start`. */
  async function serve(dir: string, port: number, name: string, start: number): Promise<void> {
    const stop = new AbortController();
    services.push(stop);
    const r = await sh(host.transport, `sh /opt/metrics/serve-metrics.sh set ${dir} ${name} ${start}`);
    assert.equal(r.code, 0, r.err);
    void host.transport.exec({ script: `exec sh /opt/metrics/serve-metrics.sh serve ${dir} ${port} 127.0.0.1`, signal: stop.signal });
  }

  /** Poll `promql` until it gives `want` (Prometheus scrapes every second here). */
  async function expectValue(p: PrometheusServer, promql: string, want: number): Promise<void> {
    let got: number[] = [];
    await until(
      `${promql} = ${want} (last ${got.join(",")})`,
      async () => {
        got = queryValues(await p.query(promql));
        return got.length === 1 && got[0] === want;
      },
      60_000,
    );
  }

  /** Whether process `pid` runs on the host. */
  async function runsOnHost(pid: number): Promise<boolean> {
    return (await sh(host.transport, `kill -0 ${pid}`)).code === 0;
  }

  before(async () => {
    driver = createLabDriver(backend([sys]), ctx);
    host = await driver.allocate(sys, 1);
    await host.transport.put(
      tar.c({ cwd: join(REPO, "share", "metrics"), gzip: true }, ["serve-metrics.sh"]) as unknown as Readable,
      "/opt/metrics",
    );
  });

  after(async () => {
    for (const s of services) s.abort();
    await driver.close?.();
    rmSync(ctx.runDir, { recursive: true, force: true });
    rmSync(local, { recursive: true, force: true });
  });

  it("scrapes a service on the host, answers at the host's address, and brings its data back at stop()", async () => {
    await serve("/tmp/m1", 9100, "demo_requests_total", 7);
    const dir = join(local, "one");
    const p = await startPrometheusOn(host.transport, {
      address: host.address,
      dir,
      remoteDir: "/var/tmp/prom-one",
      targets: [{ job: "demo", url: "http://127.0.0.1:9100/metrics", labels: { host: host.name } }],
      scrapeInterval: "1s",
    });
    try {
      assert.equal(p.url, `http://${host.address}:9090`);
      assert.equal(p.host, host.name);
      assert.ok(await runsOnHost(p.pid), "no prometheus process on the host");
      await p.waitForTargets(60_000);
      const r = await p.query("demo_requests_total");
      assert.ok(r.resultType === "vector" && r.result.length === 1, JSON.stringify(r));
      assert.deepEqual(
        { ...r.result[0]!.metric },
        { __name__: "demo_requests_total", host: host.name, instance: "127.0.0.1:9100", job: "demo" },
      );
      assert.deepEqual(queryValues(r), [7]);
      // The counter moves on the host; the server sees it.
      assert.equal((await sh(host.transport, "sh /opt/metrics/serve-metrics.sh inc /tmp/m1 demo_requests_total 3")).code, 0);
      await expectValue(p, "demo_requests_total", 10);
      // A second service joins without a restart: the targets file is rewritten on the host.
      await serve("/tmp/m2", 9101, "demo_requests_total", 5);
      await p.setTargets([
        { job: "demo", url: "http://127.0.0.1:9100/metrics", labels: { host: host.name } },
        { job: "demo", url: "http://127.0.0.1:9101/metrics", labels: { host: host.name } },
      ]);
      await p.waitForTargets(60_000);
      await expectValue(p, "sum(demo_requests_total)", 15);
      assert.ok(await runsOnHost(p.pid), "the same server still runs");
    } finally {
      await p.stop();
    }
    assert.equal(await runsOnHost(p.pid), false, "prometheus still runs on the host after stop()");
    await p.stop(); // twice is fine
    // Its data is with the orchestrator's results; nothing of it stays on the host.
    assert.ok(readdirSync(join(dir, "data", "wal")).length > 0, "no WAL fetched");
    assert.match(readFileSync(join(dir, "prometheus.log"), "utf8"), /See you next time/);
    assert.match(readFileSync(join(dir, "prometheus.yml"), "utf8"), /scrape_interval: "1s"/);
    assert.equal((JSON.parse(readFileSync(join(dir, "targets.json"), "utf8")) as unknown[]).length, 2);
    assert.equal((await sh(host.transport, "test -e /var/tmp/prom-one")).code, 1, "the server's directory is left on the host");
  });

  it("a second server on the host takes the next port; an abort signal stops it and fetches its data", async () => {
    const first = await startPrometheusOn(host.transport, { address: host.address, dir: join(local, "first"), targets: [] });
    const ac = new AbortController();
    try {
      const second = await startPrometheusOn(host.transport, {
        address: host.address,
        dir: join(local, "second"),
        targets: [],
        signal: ac.signal,
      });
      assert.equal(first.url, `http://${host.address}:9090`);
      assert.equal(second.url, `http://${host.address}:9091`);
      assert.deepEqual(queryValues(await second.query("vector(1)")), [1]);
      ac.abort();
      // Nobody calls stop(): the abort alone ends the server and brings its log home.
      await until("the aborted server's log", () => existsSync(join(local, "second", "prometheus.log")), 60_000);
      await until("the aborted server's data", () => existsSync(join(local, "second", "data", "wal")), 60_000);
      assert.match(readFileSync(join(local, "second", "prometheus.log"), "utf8"), /address already in use[\s\S]*See you next time/);
      assert.equal(await runsOnHost(second.pid), false);
      assert.ok(await runsOnHost(first.pid), "the first server was stopped too");
    } finally {
      await first.stop();
    }
    assert.equal(await runsOnHost(first.pid), false);
  });

  it("stops by itself, writing its data out, when troupe's process ends without stop()", async () => {
    const remoteDir = "/var/tmp/prom-orphan";
    const child = spawn(process.execPath, [...process.execArgv, childScript], {
      env: {
        ...process.env,
        TROUPE_PROM_TEST_MODE: "host",
        TROUPE_PROM_TEST_SLOT: String(host.data?.["slot"]),
        TROUPE_PROM_TEST_DIR: join(local, "orphan"),
        TROUPE_PROM_TEST_REMOTE_DIR: remoteDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    assert.equal(code, 0, err);
    const pid = Number(out.trim());
    assert.ok(pid > 1, `child printed ${out}`);
    await until("the orphaned server to stop", async () => !(await runsOnHost(pid)), 60_000);
    // SIGTERM from the watchdog, not a kill: Prometheus said goodbye.
    const log = await sh(host.transport, `cat ${remoteDir}/prometheus.log`);
    assert.match(log.out, /See you next time/);
    await sh(host.transport, `rm -rf ${remoteDir}`);
  });

  it("a host without the binary, or whose binary fails, gives a clear error", async () => {
    await assert.rejects(
      startPrometheusOn(host.transport, {
        address: host.address,
        dir: join(local, "none"),
        targets: [],
        binary: "troupe-no-such-prometheus",
      }),
      (e: unknown) =>
        isTroupeError(e) &&
        e.code === "E_UNSUPPORTED" &&
        e.message.includes(`not found on ${host.name}`) &&
        e.message.includes("apt-get install prometheus"),
    );
    const fake = "/opt/fake-prometheus";
    await sh(
      host.transport,
      `printf '#!/bin/sh\\necho "err: parsing config: troupe-it-broken" >&2\\nexit 1\\n' > ${fake} && chmod +x ${fake}`,
    );
    const dir = join(local, "broken");
    await assert.rejects(
      startPrometheusOn(host.transport, { address: host.address, dir, remoteDir: "/var/tmp/prom-broken", targets: [], binary: fake }),
      (e: unknown) =>
        isTroupeError(e) &&
        e.code === "E_BACKEND" &&
        /exited while starting \(status 1\)/.test(e.message) &&
        e.message.includes("troupe-it-broken"),
    );
    // The log came home; the host keeps nothing.
    assert.match(readFileSync(join(dir, "prometheus.log"), "utf8"), /troupe-it-broken/);
    assert.equal((await sh(host.transport, "test -e /var/tmp/prom-broken")).code, 1);
  });
});
