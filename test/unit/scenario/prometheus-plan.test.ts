// Where a scenario's Prometheus runs (`prometheus: {on: ...}`, Octogram's
// prometheus_agent), and the targets as the host it runs on sees them.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseScenarioText } from "../../../src/scenario/load.js";
import { planScenario } from "../../../src/scenario/plan.js";
import { scenarioMachines } from "../../../src/scenario/prometheus-plan.js";
import { targetsSeenFrom } from "../../../src/scenario/prometheus.js";
import { describePlan } from "../../../src/scenario/describe.js";
import { selectHosts } from "../../../src/scenario/select.js";
import { isTroupeError } from "../../../src/util/errors.js";

function plan(text: string, file = "s.yaml") {
  const { data, source, plugins, backends } = parseScenarioText(text, file, `/tmp/${file}`);
  return planScenario(data, source, { plugins, ...(backends ? { backends } : {}) });
}

function problems(text: string, file = "s.yaml"): string[] {
  try {
    plan(text, file);
  } catch (e) {
    assert.ok(isTroupeError(e), String(e));
    return e.message.split("\n");
  }
  assert.fail("no error");
}

const STAGES = `stages:
  - name: s
    jobs:
      - run: echo {{ prometheus.url }}
`;

describe("prometheus: on", () => {
  it("runs on the orchestrator by default, or when said", () => {
    assert.deepEqual(plan(`hosts: [a]\nprometheus: {}\n${STAGES}`).prometheus, {});
    assert.deepEqual(plan(`hosts: [a]\nprometheus: {on: orchestrator, binary: /opt/p/prometheus}\n${STAGES}`).prometheus, {
      binary: "/opt/p/prometheus",
    });
  });

  it("names one of the scenario's hosts; the plan allocates nothing more", () => {
    const p = plan(`hosts: [node-1, node-2]\nprometheus: {on: node-2, scrape_interval: 1s}\n${STAGES}`);
    assert.deepEqual(p.prometheus, { scrapeInterval: "1s", host: "node-2" });
    assert.deepEqual(
      scenarioMachines(p).map((h) => h.name),
      ["node-1", "node-2"],
    );
    assert.match(describePlan(p), /^prometheus: on node-2, every 1s$/m);
  });

  it("with backend:, a host of its own that no stage picks", () => {
    const p = plan(`hosts:
  - names: node-[1..2]
    backend: lab
prometheus:
  on: monitor
  backend: lab
${STAGES}`);
    assert.equal(p.prometheus?.host, "monitor");
    const own = p.prometheus?.ownHost;
    assert.ok(own);
    assert.equal(own.backend.name, "lab");
    // Counted after the scenario's own lab hosts.
    assert.equal(own.index, 3);
    assert.deepEqual(
      p.hosts.map((h) => h.name),
      ["node-1", "node-2"],
    );
    assert.deepEqual(
      scenarioMachines(p).map((h) => h.name),
      ["node-1", "node-2", "monitor"],
    );
    assert.deepEqual(
      selectHosts(p.hosts, [".*"], "whole").map((s) => s.host.name),
      ["node-1", "node-2"],
    );
    assert.match(describePlan(p), /^prometheus: on monitor \(a host of its own, lab:lab\)$/m);
  });

  it("says what is wrong, where", () => {
    assert.deepEqual(problems(`hosts: [node-1, node-2]\nprometheus: {on: node-3}\n${STAGES}`), [
      "s.yaml:2:18: prometheus.on: no host 'node-3': name one of the scenario's hosts (node-[1-2]) or orchestrator, or add backend: to give Prometheus a host of its own named node-3",
    ]);
    assert.deepEqual(problems(`hosts: [a]\nprometheus:\n  on: a\n  backend: lab\n${STAGES}`), [
      "s.yaml:3:7: prometheus.on: 'a' is one of the scenario's hosts: drop backend: to run Prometheus on it, or give its own host another name",
    ]);
    assert.deepEqual(problems(`hosts: [a]\nprometheus:\n  backend: lab\n${STAGES}`), [
      "s.yaml:3:12: prometheus.backend: backend: gives Prometheus a host of its own: name it with on: NAME",
    ]);
    assert.deepEqual(problems(`hosts: [a]\nprometheus:\n  on: m\n  backend: nope\n${STAGES}`), [
      "s.yaml:4:12: prometheus.backend: no backend 'nope': declare it under backends: (as in troupe.yaml), or use local or lab",
    ]);
    assert.deepEqual(problems(`hosts: [a]\nprometheus:\n  on: self\n  backend: lab\n${STAGES}`), [
      "s.yaml:3:7: prometheus.on: 'self' cannot be a host name: self:// means something in URIs",
    ]);
  });
});

const RECIPE = (prom: string): string => `agents:
  - {name: node-a, address: 10.1.1.1, user: root, port: 22, identity: k}
  - {name: node-b, address: 10.1.1.2, user: root, port: 22, identity: k}
prometheus_agent: ${prom}
stages:
  - name: s
    jobs:
      - name: serve
        builtins.start_http_server: {}
`;

describe("Octogram's prometheus_agent", () => {
  it("is a host of its own, reached as the recipe says, that no stage picks (with_agents '.*' picks the agents)", () => {
    const p = plan(RECIPE("{name: prom, address: 10.1.1.9, user: admin, port: 2222, identity: pk}"), "r.yml");
    assert.equal(p.prometheus?.host, "prom");
    const own = p.prometheus?.ownHost;
    assert.ok(own);
    assert.equal(own.backend.name, "agents");
    assert.equal(own.backend.type, "ssh");
    assert.deepEqual(own.system.extra, { hosts: ["admin@10.1.1.9:2222"], "identity-file": "pk" });
    assert.deepEqual(
      p.hosts.map((h) => h.name),
      ["node-a", "node-b"],
    );
    assert.deepEqual(
      selectHosts(p.hosts, [".*"], "partial").map((s) => s.host.name),
      ["node-a", "node-b"],
    );
  });

  it("with an agent's name, Prometheus runs on that agent", () => {
    const p = plan(RECIPE("{name: node-b, address: 10.1.1.2, user: root, port: 22, identity: k}"), "r.yml");
    assert.deepEqual(p.prometheus, { host: "node-b" });
  });

  it("a bad name is reported at the recipe's prometheus_agent.name", () => {
    assert.deepEqual(problems(RECIPE("{name: 'a b', address: 10.1.1.9, user: root, port: 22, identity: k}"), "r.yml"), [
      "r.yml:4:26: prometheus.on: bad host names 'a b': 'a b' contains white space",
    ]);
  });
});

describe("targets as the Prometheus host sees them", () => {
  const addr: Record<string, string> = { "node-1": "10.213.0.5", "node-2": "10.213.0.6", local: "127.0.0.1" };
  const t = (host: string, url: string) => ({ job: "m", url, labels: { host, service: "m" } });
  it("a loopback URL of another host becomes that host's address; the rest stays", () => {
    assert.deepEqual(
      targetsSeenFrom(
        "node-1",
        [
          t("node-1", "http://127.0.0.1:9100/metrics"),
          t("node-2", "http://127.0.0.1:9101/metrics?x=1"),
          t("node-2", "http://localhost:9102/metrics"),
          t("node-2", "http://10.213.0.6:9103/metrics"),
          t("local", "http://127.0.0.1:9104/metrics"),
        ],
        (h) => addr[h],
      ).map((x) => x.url),
      [
        "http://127.0.0.1:9100/metrics",
        "http://10.213.0.6:9101/metrics?x=1",
        "http://10.213.0.6:9102/metrics",
        "http://10.213.0.6:9103/metrics",
        "http://127.0.0.1:9104/metrics",
      ],
    );
  });
});
