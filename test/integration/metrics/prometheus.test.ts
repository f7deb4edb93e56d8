// startPrometheus with the real Prometheus binary: it scrapes an endpoint
// served here with node's http module, answers queries, keeps its data after
// stop(), and leaves no process. Each test checks only the server it started.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { queryValues, startPrometheus } from "../../../src/index.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { processAlive as alive } from "../../support/processes.js";

/** An HTTP endpoint serving `body()` at /metrics; resolves to its URL. */
async function endpoint(body: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader("content-type", "text/plain; version=0.0.4");
    res.end(body());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  assert.ok(a && typeof a === "object");
  return { url: `http://127.0.0.1:${a.port}/metrics`, server };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "troupe-prom-"));
}

test("startPrometheus scrapes a target, answers queries, keeps its data and leaves no process", async () => {
  const dir = tmp();
  let n = 41;
  const ep = await endpoint(() => `# TYPE troupe_it_requests_total counter\ntroupe_it_requests_total{kind="a"} ${++n}\n`);
  try {
    const p = await startPrometheus({ dir, targets: [{ job: "svc", url: ep.url, labels: { host: "h1" } }], scrapeInterval: "1s" });
    try {
      assert.match(p.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(alive(p.pid));
      await p.waitForTargets(60_000);
      const r = await p.query('troupe_it_requests_total{job="svc"}');
      assert.equal(r.resultType, "vector");
      assert.ok(r.resultType === "vector");
      assert.equal(r.result.length, 1);
      assert.deepEqual(
        { ...r.result[0]!.metric },
        { __name__: "troupe_it_requests_total", host: "h1", instance: ep.url.slice(7, -8), job: "svc", kind: "a" },
      );
      const [v] = queryValues(r);
      assert.ok(v !== undefined && v >= 42, `value ${v}`);
      const s = await p.query("scalar(vector(7))");
      assert.deepEqual(queryValues(s), [7]);
      await assert.rejects(p.query("sum("), (e: unknown) => isTroupeError(e) && /bad_data|parse/.test(e.message));
    } finally {
      await p.stop();
    }
    assert.ok(!alive(p.pid), "prometheus still runs after stop()");
    await p.stop(); // twice is fine
    const data = readdirSync(join(dir, "data"));
    assert.ok(data.includes("wal"), `data: ${data.join(", ")}`);
    assert.ok(readdirSync(join(dir, "data", "wal")).length > 0);
    assert.ok(existsSync(join(dir, "prometheus.yml")));
    assert.match(readFileSync(join(dir, "prometheus.log"), "utf8"), /See you next time/);
  } finally {
    ep.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("setTargets changes what is scraped without a restart", async () => {
  const dir = tmp();
  const a = await endpoint(() => "troupe_it_side 1\n");
  const b = await endpoint(() => "troupe_it_side 2\n");
  try {
    const p = await startPrometheus({ dir, targets: [{ job: "a", url: a.url }], scrapeInterval: "1s" });
    try {
      await p.waitForTargets(60_000);
      await p.setTargets([
        { job: "a", url: a.url },
        { job: "b", url: b.url },
      ]);
      await p.waitForTargets(60_000);
      let sum: number[] = [];
      for (let i = 0; i < 100 && sum[0] !== 3; i++) {
        sum = queryValues(await p.query("sum(troupe_it_side)"));
        if (sum[0] !== 3) await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(sum, [3]);
      assert.ok(alive(p.pid), "the same server still runs");
    } finally {
      await p.stop();
    }
  } finally {
    a.server.close();
    b.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an abort signal stops the server", async () => {
  const dir = tmp();
  const ac = new AbortController();
  try {
    const p = await startPrometheus({ dir, targets: [], signal: ac.signal });
    ac.abort();
    // Nobody calls stop(): the abort alone must end the process.
    for (let i = 0; i < 300 && alive(p.pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive(p.pid), "prometheus still runs 30s after the abort");
    assert.match(readFileSync(join(dir, "prometheus.log"), "utf8"), /See you next time/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Run child.js in `mode`; the pid of the Prometheus it left behind. */
async function orphan(mode: "exit" | "kill", dir: string): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, join(dirname(fileURLToPath(import.meta.url)), "child.js")], {
    env: { ...process.env, TROUPE_PROM_TEST_MODE: mode, TROUPE_PROM_TEST_DIR: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once("close", (c, s) => resolve([c, s])));
  assert.deepEqual([code, signal], mode === "kill" ? [null, "SIGKILL"] : [0, null], err);
  const pid = Number(out.trim());
  assert.ok(pid > 1, `child printed ${out}`);
  return pid;
}

for (const mode of ["exit", "kill"] as const) {
  test(`a server troupe never stopped ends with troupe's process (${mode === "exit" ? "exit hook" : "SIGKILL: the closed pipe"}), writing its data out`, async () => {
    const dir = tmp();
    try {
      const pid = await orphan(mode, dir);
      for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!alive(pid), "prometheus still runs 30s after troupe's process ended");
      // SIGTERM from the watchdog, not a kill: Prometheus said goodbye.
      assert.match(readFileSync(join(dir, "prometheus.log"), "utf8"), /See you next time/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a missing binary says how to install Prometheus", async () => {
  const dir = tmp();
  try {
    for (const binary of ["troupe-no-such-prometheus", join(dir, "prometheus")]) {
      await assert.rejects(
        startPrometheus({ dir, targets: [], binary }),
        (e: unknown) =>
          isTroupeError(e) && e.code === "E_UNSUPPORTED" && e.message.includes("apt-get install prometheus") && e.message.includes(binary),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a server that fails to start: the error shows the end of its log", async () => {
  const dir = tmp();
  try {
    const fake = join(dir, "fake-prometheus");
    writeFileSync(fake, "#!/bin/sh\necho 'err: parsing config: troupe-it-broken' >&2\nexit 1\n", { mode: 0o755 });
    await assert.rejects(
      startPrometheus({ dir: join(dir, "p"), targets: [], binary: fake }),
      (e: unknown) =>
        isTroupeError(e) &&
        e.code === "E_BACKEND" &&
        /exited while starting \(status 1\)/.test(e.message) &&
        e.message.includes("troupe-it-broken"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
