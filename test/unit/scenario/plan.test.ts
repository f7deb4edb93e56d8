import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTroupeError } from "../../../src/util/errors.js";
import { parseScenarioText } from "../../../src/scenario/load.js";
import { planScenario } from "../../../src/scenario/plan.js";

function plan(text: string) {
  const { data, source } = parseScenarioText(text, "s.yaml", "/tmp/s.yaml");
  return planScenario(data, source);
}

function problems(text: string): string[] {
  try {
    plan(text);
  } catch (e) {
    assert.ok(isTroupeError(e), String(e));
    return e.message.split("\n");
  }
  assert.fail("no error");
}

describe("scenario files: schema and plan", () => {
  it("plan hosts, stages, jobs and defaults", () => {
    const p = plan(`name: demo
hosts:
  - names: node-[1..2]
vars: {port: 8000}
stages:
  - name: start
    with_hosts: 'node-(\\d+)'
    jobs:
      - name: serve
        service: python3 -m http.server {{ vars.port }}
        endpoint: http://{{ host.addr }}:{{ vars.port }}
      - run: echo hi
        with_items: "1..3"
        run_items: concurrent
        vars_updates:
          n: 1
`);
    assert.equal(p.name, "demo");
    assert.equal(p.baseDir, "/tmp");
    assert.deepEqual(
      p.hosts.map((h) => h.name),
      ["node-1", "node-2"],
    );
    const s = p.stages[0]!;
    assert.equal(s.runHosts, "concurrent");
    assert.equal(s.runJobs, "sequential");
    assert.equal(s.jobs[0]!.body.kind, "service");
    assert.equal(s.jobs[1]!.name.text, "echo hi");
    assert.equal(s.jobs[1]!.runItems, "concurrent");
    assert.equal(s.jobs[1]!.varsUpdates[0]!.as, "json");
  });

  it("report schema problems at their file:line:col, with the closest key", () => {
    assert.deepEqual(
      problems(`hosts: [a]
stages:
  - name: s
    run_jobs: parallel
    jobs:
      - run: x
        ignore_falure: true
`),
      [
        's.yaml:4:15: stages[0].run_jobs: must be one of "sequential", "concurrent"',
        "s.yaml:7:9: stages[0].jobs[0].ignore_falure: unknown key 'ignore_falure'; did you mean 'ignore_failure'?",
      ],
    );
  });

  it("report job, host and selection problems before anything runs", () => {
    assert.deepEqual(
      problems(`hosts:
  - names: node-[1..2]
  - names: node-2
stages:
  - name: s
    with_hosts: web-.*
    jobs:
      - run: x
        copy: {from: a, to: b}
      - service: sleep 1
`),
      [
        "s.yaml:3:12: hosts[1].names: host 'node-2' is listed twice (first at line 2)",
        "s.yaml:6:17: stages[0].with_hosts: stage \"s\" selects no host: no host name matches 'web-.*' (the whole name must match)",
        "s.yaml:8:9: stages[0].jobs[0]: job #1 has run and copy: give each job one of run:, copy:, service: or a plugin's job kind",
        "s.yaml:10:9: stages[0].jobs[1]: a service needs a name: (other hosts reach it as HOST://NAME)",
      ],
    );
  });

  it("report templates that cannot work: unset vars, res outside vars_updates, missing captures", () => {
    assert.deepEqual(
      problems(`hosts: [node-1]
vars: {a: 1}
stages:
  - name: s
    jobs:
      - run: |
          echo {{ vars.a }}
          echo {{ vars.b }} {{ res.stdout }}
        vars_updates:
          c: "{{ res.stdout }}"
      - run: echo {{ vars.c }} {{ re[1] }} {{ hosts.web.addr }}
`),
      [
        's.yaml:8:19: stages[0].jobs[0].run: stage "s", job "echo {{ vars.a }}", template "echo {{ vars.b }} {{ res.stdout }}": undefined variable vars.b; declare it under vars: (null if it has no value yet) or set it with vars_updates',
        's.yaml:8:32: stages[0].jobs[0].run: stage "s", job "echo {{ vars.a }}", template "echo {{ vars.b }} {{ res.stdout }}": res is only set in vars_updates (it is the result of the step that just ended)',
        's.yaml:11:35: stages[0].jobs[1].run: stage "s", job "echo {{ vars.c }} {{ re[1] }} {{ host...", template "echo {{ vars.c }} {{ re[1] }} {{ hosts.web.addr }}": re[1]: the stage\'s with_hosts has no capture group',
        's.yaml:11:47: stages[0].jobs[1].run: stage "s", job "echo {{ vars.c }} {{ re[1] }} {{ host...", template "echo {{ vars.c }} {{ re[1] }} {{ hosts.web.addr }}": no host \'web\' (hosts.web.addr)',
      ],
    );
  });

  it("prometheus.url and prometheus.dir need a prometheus: section; other fields are unknown", () => {
    const stages = `stages:
  - name: s
    jobs:
      - run: wget -qO- {{ prometheus.url }}/api/v1/query?query=up {{ prometheus.port }}
`;
    const errs = problems(`hosts: [a]\n${stages}`);
    assert.equal(errs.length, 2, errs.join("\n"));
    assert.ok(
      errs.every((e) => e.includes("needs a prometheus: section")),
      errs.join("\n"),
    );
    assert.deepEqual(problems(`hosts: [a]\nprometheus: {}\n${stages}`), [
      's.yaml:6:70: stages[0].jobs[0].run: stage "s", job "wget -qO- {{ prometheus.url }}/api/v1...", template "wget -qO- {{ prometheus.url }}/api/v1/query?query=up {{ prometheus.port }}": undefined variable prometheus.port (prometheus has url, dir)',
    ]);
    const p = plan(`hosts: [a]\nprometheus: {scrape_interval: 2s}\n${stages.replace(" {{ prometheus.port }}", "")}`);
    assert.deepEqual(p.prometheus, { scrapeInterval: "2s" });
  });

  it("read JSON scenarios too", () => {
    const p = plan(`{"hosts": ["a", {"names": "b[1..2]", "groups": "g"}], "stages": [{"name": "s", "jobs": [{"run": "true"}]}]}`);
    assert.deepEqual(
      p.hosts.map((h) => [h.name, h.groups]),
      [
        ["a", []],
        ["b1", ["g"]],
        ["b2", ["g"]],
      ],
    );
  });

  it("reports invalid YAML at its position", () => {
    assert.match(problems("hosts: [a\nstages: []\n")[0]!, /^s\.yaml:\d+:\d+: invalid YAML/);
  });
});

describe("the scenario JSON Schema", () => {
  it("describes the top-level keys and a job's kinds, for editors", async () => {
    const { scenarioJsonSchema } = await import("../../../src/scenario/schema.js");
    const s = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    assert.deepEqual(Object.keys(s.properties).sort(), [
      "backends",
      "hosts",
      "log",
      "log_lines",
      "name",
      "prometheus",
      "stages",
      "summary",
      "vars",
    ]);
    assert.deepEqual(s.required.sort(), ["hosts", "stages"]);
    const text = JSON.stringify(s);
    for (const key of [
      "with_hosts",
      "run_hosts",
      "run_jobs",
      "with_items",
      "run_items",
      "vars_updates",
      "ignore_failure",
      "endpoint",
      "metrics",
      "log",
      "log_lines",
    ])
      assert.ok(text.includes(`"${key}"`), key);
  });
});
