// `troupe play` with `prometheus: {on: HOST}`, as a user runs it: the real
// Prometheus (Debian's) on a lab host, scraping the services of the
// scenario's hosts as that host sees them, queried by a later stage at
// {{ prometheus.url }}, and its data brought home into the run's results
// folder at the end and on Ctrl-C; a host of its own (`backend:`); a host
// without the binary. Each test checks only what its own run owns.
// Needs root, Linux, openssh-server (.ci/lab-deps.sh), busybox and prometheus.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe, troupeAsync } from "./helpers.js";

interface ScenarioJson {
  runId: string;
  status: string;
  vars: Record<string, unknown>;
  hosts: { name: string; address?: string }[];
  services: { host: string; service: string; metrics?: string }[];
  prometheus?: { url: string; dir: string; host?: string; targets: string[] };
}

function scenarioJson(dir: string): ScenarioJson {
  const runs = join(dir, ".troupe", "runs");
  const ids = readdirSync(runs);
  assert.equal(ids.length, 1, `runs: ${ids.join(", ")}`);
  return JSON.parse(readFileSync(join(runs, ids[0]!, "scenario.json"), "utf8")) as ScenarioJson;
}

/** Run `fn` with a project holding `s.yaml` and a private TMPDIR, both removed after. */
async function withScenario(yaml: string, fn: (dir: string, tmp: string) => void | Promise<void>): Promise<void> {
  const tmp = privateTmp();
  const dir = project({ "s.yaml": yaml });
  try {
    await fn(dir, tmp);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

const SERVE = join(REPO, "share/metrics/serve-metrics.sh");

/** The top of a scenario: lab hosts node-1..node-N and a prometheus: section (its lines, indented). */
function labScenario(nodes: number, prometheus: string): string {
  return `hosts:
  - names: node-[1..${nodes}]
    backend: lab
prometheus:
${prometheus}
`;
}

/** A stage that makes each node-N count N*10 requests and serve them: node-1 on all its addresses (written as its loopback), the others on their own address. */
function countAndServe(port: number): string {
  return `  - name: count and serve
    with_hosts: 'node-(\\d+)'
    jobs:
      - copy: {from: ${SERVE}, to: serve-metrics.sh}
      - run: sh serve-metrics.sh inc m demo_requests_total {{ re[1] | int * 10 }}
      - name: metrics
        service: >-
          exec sh serve-metrics.sh serve m {{ ${port} + re[1] | int }}
          {{ '0.0.0.0' if re[1] == '1' else host.addr }}
        endpoint: "http://{{ '127.0.0.1' if re[1] == '1' else host.addr }}:{{ ${port} + re[1] | int }}"
        metrics: /metrics
`;
}

test("on: HOST runs Prometheus on that lab host; it scrapes the others as it sees them, a later stage queries it, and its data comes home", async () => {
  const port = randomInt(20_000, 30_000);
  const yaml = `${labScenario(3, "  on: node-3\n  scrape_interval: 1s")}vars:
  total: null
stages:
${countAndServe(port)}  - name: ask Prometheus
    with_hosts: node-1
    jobs:
      - run: busybox wget -qO- '{{ prometheus.url }}/api/v1/query?query=sum(demo_requests_total)'
        vars_updates:
          total: {value: "{{ res.json.data.result[0].value[1] }}", as: int}
  - name: where it runs
    with_hosts: node-3
    jobs:
      - run: |
          case '{{ prometheus.url }}' in
            'http://{{ host.addr }}:'*) pgrep -x prometheus >/dev/null && echo "prometheus runs here" ;;
            *) echo "prometheus is not here: {{ prometheus.url }}"; exit 1 ;;
          esac
`;
  await withScenario(yaml, (dir, tmp) => {
    const r = troupe(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /starting Prometheus on node-3/);
    assert.match(r.stdout, /node-3: prometheus runs here/);
    assert.doesNotMatch(r.stdout + r.stderr, /targets not up/);
    const j = scenarioJson(dir);
    assert.equal(j.vars["total"], 60);
    const addr = Object.fromEntries(j.hosts.map((h) => [h.name, h.address]));
    assert.ok(j.prometheus, "scenario.json has no prometheus");
    assert.equal(j.prometheus.host, "node-3");
    assert.match(j.prometheus.url, new RegExp(`^http://${addr["node-3"]!.replace(/\./g, "\\.")}:\\d+$`));
    // node-1 wrote its loopback: Prometheus, on node-3, scrapes node-1's address.
    assert.deepEqual(
      [...j.prometheus.targets].sort(),
      [
        `http://${addr["node-1"]}:${port + 1}/metrics`,
        `http://${addr["node-2"]}:${port + 2}/metrics`,
        `http://${addr["node-3"]}:${port + 3}/metrics`,
      ].sort(),
    );
    assert.ok(j.services.some((s) => s.host === "node-1" && s.metrics === `http://127.0.0.1:${port + 1}/metrics`));
    // Stopped by SIGTERM on the host, its data and log fetched into the run's results folder.
    const runDir = join(dir, ".troupe", "runs", j.runId);
    assert.equal(j.prometheus.dir, join(runDir, "prometheus"));
    assert.ok(readdirSync(join(j.prometheus.dir, "data", "wal")).length > 0, "no WAL fetched");
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.log"), "utf8"), /See you next time/);
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.yml"), "utf8"), /scrape_interval: "1s"/);
    assert.equal((JSON.parse(readFileSync(join(j.prometheus.dir, "targets.json"), "utf8")) as unknown[]).length, 3);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  });
});

test("on: NAME with backend: gives Prometheus a lab host of its own that no stage runs on", async () => {
  const port = randomInt(20_000, 30_000);
  const yaml = `${labScenario(2, "  on: monitor\n  backend: lab\n  scrape_interval: 1s")}stages:
${countAndServe(port)}  - name: everyone
    jobs:
      - run: echo "on {{ host.name }}, asking {{ prometheus.url }}"; busybox wget -qO- '{{ prometheus.url }}/api/v1/query?query=sum(demo_requests_total)'
`;
  await withScenario(yaml, (dir, tmp) => {
    const r = troupe(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const j = scenarioJson(dir);
    assert.equal(j.prometheus?.host, "monitor");
    const monitor = j.hosts.find((h) => h.name === "monitor");
    assert.ok(monitor?.address, JSON.stringify(j.hosts));
    assert.ok(j.prometheus.url.startsWith(`http://${monitor.address}:`), j.prometheus.url);
    // The stage without with_hosts ran on the scenario's hosts only.
    assert.match(r.stdout, /node-1: on node-1, asking/);
    assert.match(r.stdout, /node-2: on node-2, asking/);
    assert.doesNotMatch(r.stdout, /monitor: on /);
    assert.match(r.stdout, /"value":\[[\d.]+,"30"\]/);
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.log"), "utf8"), /See you next time/);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  });
});

test("a host without the prometheus binary stops the scenario before any stage, naming the host", async () => {
  const yaml = `${labScenario(1, "  on: node-1\n  binary: /opt/troupe-no-such/prometheus")}stages:
  - name: s
    jobs:
      - run: echo never
`;
  await withScenario(yaml, (dir, tmp) => {
    const r = troupe(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(
      r.stdout + r.stderr,
      /prometheus: \/opt\/troupe-no-such\/prometheus not found on node-1: install Prometheus there \(Debian: apt-get install prometheus\)/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /never|\n\s+at /);
    assert.equal(scenarioJson(dir).status, "error");
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  });
});

test("Ctrl-C while Prometheus runs on a lab host: it is stopped, and its data comes home before the host goes", async () => {
  const m = randomInt(100_000, 999_999);
  const port = randomInt(20_000, 30_000);
  const yaml = `${labScenario(2, "  on: node-2\n  scrape_interval: 1s")}stages:
${countAndServe(port)}  - name: long
    with_hosts: node-1
    jobs:
      - run: echo "asking {{ prometheus.url }}"; sleep ${m}
`;
  await withScenario(yaml, async (dir, tmp) => {
    const child = troupeAsync(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // The long stage has started (or troupe ended before it: then the test fails with its output).
    const started = await new Promise<boolean>((resolve) => {
      const look = (): void => {
        if (/asking http:\/\/[\d.]+:\d+\n/.test(out)) {
          child.stdout?.off("data", look);
          resolve(true);
        }
      };
      child.stdout?.on("data", look);
      void exited.then(() => resolve(false));
    });
    assert.ok(started, out);
    child.kill("SIGINT");
    assert.equal(await exited, 130, out);
    const j = scenarioJson(dir);
    assert.equal(j.status, "interrupted");
    assert.equal(j.prometheus?.host, "node-2");
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.log"), "utf8"), /See you next time/);
    assert.ok(readdirSync(join(j.prometheus.dir, "data", "wal")).length > 0, "no WAL fetched");
    assert.deepEqual(labLeftovers(child.pid!, tmp), []);
  });
});
