// `troupe play` with a prometheus: section, as a user runs it: the example
// on lab hosts (counters scraped, summed by a query from the last stage), and
// a machine without Prometheus. Each test checks only what its own run owns.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe, troupeAsync } from "./helpers.js";

interface ScenarioJson {
  runId: string;
  status: string;
  vars: Record<string, unknown>;
  services: { host: string; service: string; metrics?: string; stopped?: string }[];
  prometheus?: { url: string; dir: string; targets: string[] };
}

/** Processes whose command line contains `marker` (here: a run's own Prometheus dir). */
function processesWith(marker: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ");
      if (args.includes(marker)) out.push(`${p}: ${args}`);
    } catch {
      // gone
    }
  }
  return out;
}

test("lab hosts: the prometheus example scrapes the nodes' counters and a last stage sums them", () => {
  const tmp = privateTmp();
  const json = join(tmp, "p.json");
  let runDir: string | undefined;
  try {
    const r = troupe(["play", join(REPO, "examples/scenarios/prometheus.yaml"), `--json=${json}`], { env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Prometheus at http:\/\/127\.0\.0\.1:\d+ scrapes 3 targets/);
    assert.match(r.stdout, /the nodes counted 60 requests/);
    const j = JSON.parse(readFileSync(json, "utf8")) as ScenarioJson;
    runDir = join(REPO, "examples/scenarios/.troupe/runs", j.runId);
    assert.equal(j.vars["total"], 60);
    assert.ok(j.prometheus, "scenario.json has no prometheus");
    assert.match(j.prometheus.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(j.prometheus.dir, join(runDir, "prometheus"));
    assert.deepEqual([...j.prometheus.targets].sort(), j.services.map((s) => s.metrics).sort());
    assert.ok(
      j.prometheus.targets.every((t) => /^http:\/\/10\.213\.\d+\.\d+:1910[1-3]\/metrics$/.test(t)),
      j.prometheus.targets.join(" "),
    );
    // Stopped cleanly, data kept in the run's folder.
    assert.ok(readdirSync(join(j.prometheus.dir, "data", "wal")).length > 0);
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.log"), "utf8"), /See you next time/);
    assert.deepEqual(processesWith(j.prometheus.dir), []);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("without Prometheus on the machine, the scenario stops before any host with how to install it", () => {
  const dir = project({
    "s.yaml": `hosts:
  - names: node-1
prometheus: {}
stages:
  - name: s
    jobs:
      - run: echo never
`,
  });
  try {
    // A PATH without prometheus (troupe runs from node's absolute path and stops before needing more).
    const r = troupe(["play", "s.yaml"], { cwd: dir, env: { PATH: "/nonexistent" } });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /apt-get install prometheus/);
    assert.doesNotMatch(r.stdout + r.stderr, /never|Allocating|\n\s+at /);
    assert.ok(existsSync(join(dir, ".troupe", "runs")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("Ctrl-C while Prometheus runs: it is stopped with the scenario and its data kept", async () => {
  const port = randomInt(20_000, 30_000);
  const m = randomInt(100_000, 999_999);
  const dir = project({
    "s.yaml": `hosts:
  - names: node-1
prometheus:
  scrape_interval: 1s
stages:
  - name: start
    jobs:
      - copy: {from: ${join(REPO, "share/metrics/serve-metrics.sh")}, to: serve-metrics.sh}
      - run: sh serve-metrics.sh inc m it_total 3
      - name: metrics
        service: exec sh serve-metrics.sh serve m ${port} 127.0.0.1
        endpoint: http://127.0.0.1:${port}
        metrics: /metrics
  - name: long
    jobs:
      - run: echo "asking {{ prometheus.url }}"; sleep ${m}
`,
  });
  try {
    const child = troupeAsync(["play", "s.yaml"], { cwd: dir });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor(() => /asking http:\/\/127\.0\.0\.1:\d+\n/.test(out), "the long stage to start");
    child.kill("SIGINT"); // troupe only: Prometheus must be stopped by troupe, not by the terminal's signal
    assert.equal(await exited, 130, out);
    const runs = join(dir, ".troupe", "runs");
    const [id] = readdirSync(runs);
    const j = JSON.parse(readFileSync(join(runs, id!, "scenario.json"), "utf8")) as ScenarioJson;
    assert.equal(j.status, "interrupted");
    assert.ok(j.prometheus);
    assert.deepEqual(j.prometheus.targets, [`http://127.0.0.1:${port}/metrics`]);
    assert.deepEqual(processesWith(j.prometheus.dir), []);
    await waitFor(() => processesWith(`sleep ${m}`).length === 0, "the scenario's step to go", 10_000);
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.log"), "utf8"), /See you next time/);
    assert.ok(readdirSync(join(j.prometheus.dir, "data", "wal")).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
