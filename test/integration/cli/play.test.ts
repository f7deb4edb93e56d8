// `troupe play`: scenarios through the CLI, as a user runs them, on local
// processes and on lab hosts. Each test checks only what its own troupe
// process owns (its processes, found by a marker of its own; its lab hosts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe, troupeAsync } from "./helpers.js";

interface StepJson {
  job: string;
  host: string;
  item?: string;
  status: string;
}
interface ScenarioJson {
  status: string;
  exitCode: number;
  vars: Record<string, unknown>;
  stages: { name: string; status: string; hosts: string[]; steps: StepJson[] }[];
  services: { host: string; service: string; stopped?: string }[];
  hosts: { name: string; discarded?: boolean }[];
  failure?: { stage: string; stageIndex: number; job: string; host: string; item?: string; reason: string };
}

/** The scenario.json of the only run in `dir`. */
function result(dir: string): ScenarioJson {
  const runs = join(dir, ".troupe", "runs");
  const ids = readdirSync(runs);
  assert.equal(ids.length, 1, `runs: ${ids.join(", ")}`);
  return JSON.parse(readFileSync(join(runs, ids[0]!, "scenario.json"), "utf8")) as ScenarioJson;
}

/** Processes on this machine whose command line contains `marker`. */
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

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A `sleep` long enough, with a duration no other test uses: its processes are ours. */
function marker(): string {
  return String(randomInt(100_000, 999_999));
}

test("vars flow across stages; with_items ranges and products; captures pick and name hosts", () => {
  const dir = project({
    "s.yaml": `hosts:
  - names: node-[1..3]
  - names: client
vars:
  ids: []
  sum: 0
stages:
  - name: register
    with_hosts: 'node-(\\d+)'
    run_hosts: sequential
    jobs:
      - name: id-{{ re[1] }}
        run: |
          echo "[{% for i in vars.ids %}{{ i }},{% endfor %}{{ re[1] | int * 10 }}]"
        vars_updates:
          ids: {value: "{{ res.stdout }}", as: json}
          seen_{{ host.name }}: "{{ re[0] }}"
  - name: add
    with_hosts: client
    jobs:
      - name: add
        with_items: "{{ vars.ids }}"
        run: echo {{ item }}
        vars_updates:
          sum: {value: "{{ vars.sum + item }}", as: int}
      - name: grid
        with_items: {product: [[a, b], "1..2"]}
        run_items: concurrent
        run: echo "cell {{ item[0] }}{{ item[1] }}"
  - name: copy of vars
    with_hosts: 'node-1|client'
    jobs:
      - name: show
        run: |
          echo "sum={{ vars.sum }} seen={{ vars['seen_node-2'] }} ids={{ vars.ids | join('+') }} on $TROUPE_HOST"
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /node-1: \[10\]/);
  assert.match(r.stdout, /node-3: \[10,20,30\]/);
  for (const cell of ["a1", "a2", "b1", "b2"]) assert.match(r.stdout, new RegExp(`client: cell ${cell}\\n`));
  assert.match(r.stdout, /node-1: sum=60 seen=node-2 ids=10\+20\+30 on node-1/);
  assert.match(r.stdout, /client: sum=60 seen=node-2 ids=10\+20\+30 on client/);
  const j = result(dir);
  assert.equal(j.status, "passed");
  assert.deepEqual(j.vars, { ids: [10, 20, 30], sum: 60, "seen_node-1": "node-1", "seen_node-2": "node-2", "seen_node-3": "node-3" });
  assert.deepEqual(
    j.stages[0]!.steps.map((s) => s.job),
    ["id-1", "id-2", "id-3"],
  );
  assert.deepEqual(
    j.stages[1]!.steps.filter((s) => s.job === "add").map((s) => s.item),
    ["10", "20", "30"],
  );
  assert.deepEqual(j.stages[2]!.hosts, ["node-1", "client"]);
  assert.ok(
    j.hosts.every((h) => h.discarded),
    JSON.stringify(j.hosts),
  );
});

test("a failing job stops the scenario; the result names its stage, job, host and item; exit 1", () => {
  const dir = project({
    "s.yaml": `hosts:
  - names: node-[1..2]
stages:
  - name: tolerated
    jobs:
      - name: flaky
        run: exit 4
        ignore_failure: true
  - name: work
    with_hosts: 'node-(\\d)'
    run_hosts: sequential
    jobs:
      - name: process
        with_items: "1..3"
        run: |
          echo "processing {{ item }} on {{ host.name }}"
          [ "{{ re[1] }}-{{ item }}" != 2-2 ] || { echo "bad input" >&2; exit 3; }
  - name: never
    jobs:
      - run: echo should not run
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /node-1: flaky: failed, ignored: exit status 4/);
  // stdout and stderr are kept apart (vars_updates read stdout), so their lines may come in either order.
  assert.match(
    r.stdout,
    /Scenario failed: stage 2 "work", job "process", host node-2, item 2: exit status 3\n-----\n(processing 2 on node-2\nbad input|bad input\nprocessing 2 on node-2)\n-----/,
  );
  assert.doesNotMatch(r.stdout, /should not run|processing 3 on node-2/);
  const j = result(dir);
  assert.equal(j.status, "failed");
  assert.equal(j.exitCode, 1);
  assert.deepEqual(j.failure && { ...j.failure, output: undefined }, {
    stage: "work",
    stageIndex: 2,
    job: "process",
    host: "node-2",
    item: "2",
    reason: "exit status 3",
    output: undefined,
  });
  assert.deepEqual(
    j.stages.map((s) => [s.name, s.status]),
    [
      ["tolerated", "passed"],
      ["work", "failed"],
    ],
  );
  assert.ok(j.hosts.every((h) => h.discarded));
});

test("services answer through HOST://NAME and are stopped at the end, their processes gone", () => {
  const m = marker();
  const port = randomInt(20_000, 30_000);
  const dir = project({
    "s.yaml": `hosts: [server, client]
vars: {port: ${port}}
stages:
  - name: start
    with_hosts: server
    jobs:
      - name: web
        service: mkdir -p www && echo hello > www/index.txt && exec busybox httpd -f -p {{ vars.port }} -h www
        endpoint: http://127.0.0.1:{{ vars.port }}
      - name: side
        service: sleep ${m}
  - name: use
    with_hosts: client
    jobs:
      - run: busybox wget -qO- server://web/index.txt
        vars_updates:
          got: "{{ res.stdout }}"
          url: server://web/x
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /client: hello\n/);
  assert.match(r.stdout, /server: service web stopped/);
  const j = result(dir);
  assert.deepEqual(j.vars, { port, got: "hello", url: `http://127.0.0.1:${port}/x` });
  assert.deepEqual(
    j.services.map((s) => [s.host, s.service, s.stopped]),
    [
      ["server", "web", "by troupe"],
      ["server", "side", "by troupe"],
    ],
  );
  assert.deepEqual(processesWith(`sleep ${m}`), []);
  assert.deepEqual(processesWith(`-p ${port} -h www`), []);
});

test("a service that exits by itself fails the scenario, naming the job that started it", () => {
  const dir = project({
    "s.yaml": `hosts: [a]
stages:
  - name: start
    jobs:
      - name: short-lived
        service: sleep 0.3; exit 7
  - name: wait
    jobs:
      - run: sleep 30
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /Scenario failed: stage 1 "start", job "short-lived", host a: service short-lived exited before the end of the scenario: exit status 7/,
  );
});

test("mistakes in the scenario are reported at file:line:col before anything runs; exit 2", () => {
  const dir = project({
    "s.yaml": `hosts: [node-1]
stages:
  - name: s
    with_hosts: 'nod-.*'
    jobs:
      - run: |
          echo {{ vars.missing }}
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr,
    "s.yaml:4:17: stages[0].with_hosts: stage \"s\" selects no host: no host name matches 'nod-.*' (the whole name must match)\n" +
      's.yaml:7:19: stages[0].jobs[0].run: stage "s", job "echo {{ vars.missing }}", template "echo {{ vars.missing }}": undefined variable vars.missing; declare it under vars: (null if it has no value yet) or set it with vars_updates\n',
  );
  assert.equal(existsSync(join(dir, ".troupe")), false, "nothing ran");
});

test("a variable removed at run time fails the step that uses it, naming stage, job, template and place", () => {
  const dir = project({
    "s.json": JSON.stringify({
      hosts: ["h"],
      vars: { token: "x" },
      stages: [
        {
          name: "s",
          jobs: [
            { run: "echo", vars_updates: { token: null } },
            { name: "use", run: "echo {{ vars.token }}" },
          ],
        },
      ],
    }),
  });
  const r = troupe(["play", "s.json"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /Scenario failed: stage 1 "s", job "use", host h: s\.json:1:\d+: stages\[0\]\.jobs\[1\]\.run: .*template "echo \{\{ vars\.token \}\}": undefined variable vars\.token/,
  );
});

test("ask_confirmation needs a terminal or --yes", () => {
  const dir = project({
    "s.yaml": "hosts: [h]\nstages:\n  - name: careful\n    ask_confirmation: true\n    jobs:\n      - run: echo went on\n",
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /stage "careful" asks for confirmation .* pass --yes/);
  const y = troupe(["play", "--yes", "s.yaml"], { cwd: dir });
  assert.equal(y.status, 0, y.stdout + y.stderr);
  assert.match(y.stdout, /h: went on/);
});

test("--check shows hosts and stages without running anything", () => {
  const r = troupe(["play", "--check", join(REPO, "examples/scenarios/chain.yaml")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hosts: 4\n {2}node-\[1-4\] \(lab:lab\)/);
  assert.match(r.stdout, /stage 1: serve and pass along, on node-\[1-4\] \(hosts one after the other, jobs one after the other\)/);
});

async function interrupt(
  backend: "local" | "lab",
  signal: NodeJS.Signals = "SIGINT",
): Promise<{ status: number | null; stdout: string; pid: number; tmp: string; m: string; dir: string }> {
  const m = marker();
  const tmp = privateTmp();
  const dir = project({
    "s.yaml": `hosts:
  - names: node-[1..2]
    backend: ${backend}
stages:
  - name: start
    jobs:
      - name: svc
        service: sleep ${m}1
  - name: long
    jobs:
      - run: echo started; sleep ${m}2
`,
  });
  const child = troupeAsync(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
  let stdout = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stdout += c.toString()));
  await waitFor(() => (stdout.match(/: started\n/g) ?? []).length >= 2, "both hosts to run the long step");
  child.kill(signal);
  const status = child.exitCode ?? (await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code))));
  return { status, stdout, pid: child.pid!, tmp, m, dir };
}

test("Ctrl-C on local hosts: steps killed, services stopped, hosts discarded, exit 130", async () => {
  const r = await interrupt("local");
  assert.equal(r.status, 130, r.stdout);
  assert.match(r.stdout, /Scenario interrupted/);
  await waitFor(() => processesWith(`sleep ${r.m}`).length === 0, "the scenario's processes to go", 10_000);
  const j = result(r.dir);
  assert.equal(j.status, "interrupted");
  assert.ok(
    j.hosts.every((h) => h.discarded),
    JSON.stringify(j.hosts),
  );
});

test("lab hosts: the chain example runs with one command and leaves nothing", () => {
  const tmp = privateTmp();
  const r = troupe(["play", join(REPO, "examples/scenarios/chain.yaml"), `--json=${join(tmp, "chain.json")}`], { env: { TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /node-1: node-1 at 10\.213\.\d+\.\d+ was here\nnode-1: node-2 at 10\.213\.\d+\.\d+ was here\nnode-1: node-3 at [\d.]+ was here\nnode-1: node-4 at [\d.]+ was here\n/,
  );
  const j = JSON.parse(readFileSync(join(tmp, "chain.json"), "utf8")) as ScenarioJson;
  assert.equal(j.vars["length"], 4);
  assert.equal(j.services.length, 4);
  assert.ok(j.services.every((s) => s.stopped === "by troupe"));
  assert.deepEqual(labLeftovers(r.pid, tmp), []);
});

test("lab hosts: the pipeline example passes files host to host and back", () => {
  const tmp = privateTmp();
  const r = troupe(["play", join(REPO, "examples/scenarios/pipeline.yaml"), `--json=${join(tmp, "p.json")}`], { env: { TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const words = readFileSync(join(REPO, "examples/scenarios/input/words.txt"), "utf8").split(/\s+/).filter(Boolean).length;
  const j = JSON.parse(readFileSync(join(tmp, "p.json"), "utf8")) as ScenarioJson & { runId: string };
  assert.equal(j.vars["total"], words);
  const runDir = join(REPO, "examples/scenarios/.troupe/runs", j.runId);
  assert.equal(readFileSync(join(runDir, "total.txt"), "utf8").trim(), String(words));
  assert.deepEqual(labLeftovers(r.pid, tmp), []);
});

test("lab hosts: selection by captures, a failure names the host, and nothing is left", () => {
  const tmp = privateTmp();
  const dir = project({
    "s.yaml": `hosts:
  - names: db
    backend: lab
  - names: app-[1..3]
    backend: lab
stages:
  - name: apps only
    with_hosts: 'app-(?<n>\\d)'
    jobs:
      - name: check {{ re.n }}
        run: |
          test "$(hostname)" = {{ host.name }}
          test {{ re[1] }} != 3 || { echo "app 3 is broken" >&2; exit 9; }
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Scenario failed: stage 1 "apps only", job "check 3", host app-3: exit status 9\n-----\napp 3 is broken\n-----/);
  const j = result(dir);
  assert.deepEqual(j.stages[0]!.hosts, ["app-1", "app-2", "app-3"]);
  assert.deepEqual(labLeftovers(r.pid, tmp), []);
});

test("ssh hosts: a scenario's hosts come from an ssh backend as well (machines of a kept lab)", () => {
  const name = `pssh${randomInt(1000, 9999)}`;
  const up = troupe(["lab", "up", "2", "--name", name]);
  assert.equal(up.status, 0, up.stderr);
  try {
    // exec prints lines as hosts answer: put them in host order, so that m-1 is <name>-1.
    const addrs = troupe(["exec", `lab:${name}`, "--", "hostname -I"])
      .stdout.trim()
      .split("\n")
      .sort()
      .map((l) => l.split(": ")[1]!.trim().split(" ")[0]!);
    const tmp = privateTmp();
    const dir = project({
      "s.yaml": `backends:
  fleet:
    type: ssh
    ssh-options: [UserKnownHostsFile=/run/troupe-lab/known_hosts]
    systems:
      - machines:
          hosts: [${addrs.map((a) => `root@${a}`).join(", ")}]
          identity-file: /run/troupe-lab/id_ed25519
hosts:
  - names: m-[1..2]
    backend: fleet
stages:
  - name: where
    with_hosts: 'm-(\\d)'
    jobs:
      - run: echo "m-{{ re[1] }} is $(hostname)"
      - copy: {from: s.yaml, to: in/}
  # A stage of its own: hosts run a stage's jobs at once, so m-1's copy may not be there yet in the first.
  - name: read
    with_hosts: 'm-2'
    jobs:
      - run: test -s in/s.yaml && head -1 m-1://in/s.yaml
`,
    });
    const r = troupe(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`m-1: m-1 is ${name}-1\\n`));
    assert.match(r.stdout, new RegExp(`m-2: m-2 is ${name}-2\\n`));
    assert.match(r.stdout, /m-2: backends:/);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    const down = troupe(["lab", "down", "--name", name]);
    assert.equal(down.status, 0, down.stderr);
  }
});

for (const signal of ["SIGINT", "SIGHUP"] as const) {
  test(`${signal} on lab hosts: steps killed, services stopped, hosts discarded, nothing left, exit 130`, async () => {
    const r = await interrupt("lab", signal);
    assert.equal(r.status, 130, r.stdout);
    assert.match(r.stdout, /Discarding node-1/);
    await waitFor(() => processesWith(`sleep ${r.m}`).length === 0, "the hosts' processes to go", 10_000);
    assert.deepEqual(labLeftovers(r.pid, r.tmp), []);
  });
}

test("troupe schema scenario prints the scenario file's JSON Schema; an unknown kind is a usage error", () => {
  const r = troupe(["schema", "scenario"]);
  assert.equal(r.status, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as { properties?: Record<string, unknown> };
  assert.ok(schema.properties && "stages" in schema.properties && "hosts" in schema.properties);
  const bad = troupe(["schema", "scenarios"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /"project", "task", "scenario" or "octogram"/);
});
