// `troupe play` with a prometheus: section, as a user runs it: the example
// on lab hosts (counters scraped, summed by a query from the last stage), and
// a machine without Prometheus. Each test checks only what its own run owns.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe } from "./helpers.js";

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
    const r = troupe(["play", join(REPO, "examples/scenarios/prometheus.yaml"), "--json", json], { env: { TMPDIR: tmp } });
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
    assert.ok(j.prometheus.targets.every((t) => /^http:\/\/10\.213\.\d+\.\d+:1910[1-3]\/metrics$/.test(t)), j.prometheus.targets.join(" "));
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
