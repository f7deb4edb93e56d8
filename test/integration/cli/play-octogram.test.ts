// `troupe play` with Octogram's recipes read unchanged, Jinja2 templates,
// job plugins (the tezos plugin against stand-in octez binaries, see
// test/fixtures/octez/README.md), and the bugs found running those recipes.
//
// The recipes under test/fixtures/octogram/ reproduce the structure and the
// keys of the two recipes of tezos's devtools/cloud-infrastructure/projects/
// nl-dal/octogram/ (basic-scenario.yml and the DAL throughput scenario),
// written again with values of our own: they are not copies of tezos's
// files. They run as they are, but for the agents' addresses and keys (and,
// for the throughput scenario, where the binaries are downloaded from).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe, troupeAsync } from "./helpers.js";

const OCTEZ = join(REPO, "test", "fixtures", "octez");
const RECIPES = join(REPO, "test", "fixtures", "octogram");
const BINARIES = ["octez-client", "octez-node", "octez-dal-node", "octez-baker-alpha"];

interface ScenarioJson {
  status: string;
  prometheus?: { url: string; dir: string; host?: string; targets: string[] };
  vars: Record<string, unknown>;
  stages: { name: string; status: string; hosts: string[]; steps: { job: string; host: string; item?: string; status: string }[] }[];
}

function result(dir: string): ScenarioJson {
  const runs = join(dir, ".troupe", "runs");
  const ids = readdirSync(runs);
  assert.equal(ids.length, 1, `runs: ${ids.join(", ")}`);
  return JSON.parse(readFileSync(join(runs, ids[0]!, "scenario.json"), "utf8")) as ScenarioJson;
}

/** A directory to run a recipe from, as Octogram runs from tezos's root: the binaries and the base parameters file. */
function recipeDir(recipe: string, rewrite: (text: string) => string = (t) => t): string {
  const dir = project({
    [recipe]: rewrite(readFileSync(join(RECIPES, recipe), "utf8")),
    "src/proto_alpha/parameters/sandbox-parameters.json": JSON.stringify({ consensus_committee_size: 256, bootstrap_accounts: [] }),
    "src/proto_alpha/parameters/mainnet-parameters.json": JSON.stringify({ consensus_committee_size: 7000, bootstrap_accounts: [] }),
  });
  for (const b of BINARIES) copyFileSync(join(OCTEZ, b), join(dir, b));
  return dir;
}

/** Output lines of a host, without the timestamps of troupe's own lines. */
function said(stdout: string, host: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ""))
    .filter((l) => l.startsWith(`${host}: `))
    .map((l) => l.slice(host.length + 2));
}

/**
 * Whether a host's lines show the commitment for `target` published: the
 * plugin publishes once L1 is at the level before it. The stand-in node's
 * level goes up on its clock (twice a second), so on a loaded machine it may
 * go up between the plugin seeing that level and the stand-in client saying
 * where the operation went: `target` itself is as good. A plugin that did
 * not wait would publish earlier, and one that waited too long not at all.
 */
function publishedFor(lines: readonly string[], target: number): boolean {
  return lines.some((l) => {
    const level = /^Operation successfully injected at level (\d+): commitment sh1stand/.exec(l)?.[1];
    return level === String(target - 1) || level === String(target);
  });
}

function checkBasicRun(stdout: string, dir: string): void {
  const node = said(stdout, "node");
  // The parameters file made on `localhost` reached `node` and holds the five accounts, by key or by hash.
  assert.ok(node.includes(`Injected BMstandin for protocol ProtoALphaALphaALphaALphaALphaALphaALphaALphaDdp3zK`), node.join("\n"));
  assert.ok(node.includes("Node is bootstrapped."), node.join("\n"));
  assert.ok(
    node.some((l) =>
      /^octez-baker: baking for baker_0 baker_1 baker_2 with node http:\/\/[\d.]+:38701 and DAL node http:\/\/[\d.]+:38711$/.test(l),
    ),
    node.join("\n"),
  );
  // Slots at levels 12..14: published at level 11..13, each one level before its target.
  for (const target of [12, 13, 14]) assert.ok(publishedFor(node, target), node.join("\n"));
  const j = result(dir);
  assert.equal(j.status, "passed");
  assert.deepEqual(
    j.stages.map((s) => s.hosts),
    [["localhost"], ["node"]],
  );
  assert.deepEqual(
    j.stages[1]!.steps.filter((s) => s.job.startsWith("Publish")).map((s) => s.item),
    ["12", "13", "14", "20", "21"],
  );
}

test("Octogram's basic recipe runs unchanged on local processes (--backend-as), with the tezos plugin and stand-in octez binaries", () => {
  const dir = recipeDir("basic-scenario.yml");
  const r = troupe(["play", "--backend-as", "agents=local", "basic-scenario.yml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /no agent binary goes to the hosts \(octogram_binary is not used\)/);
  checkBasicRun(r.stdout, dir);
  // The parameters: base file, accounts (revealed by key, the others by hash), balances, DAL values as JSON.
  const calls = said(r.stdout, "localhost").join("\n");
  assert.match(calls, /wallet_dir\/stand-in-keys/);
});

test("Octogram's basic recipe on a lab host: two agents on one address are two hosts with a directory each; Prometheus runs on the prometheus agent", () => {
  const name = `octo${randomInt(1000, 9999)}`;
  const up = troupe(["lab", "up", "1", "--name", name]);
  assert.equal(up.status, 0, up.stderr);
  try {
    const addr = troupe(["exec", `lab:${name}`, "--", "hostname -I"])
      .stdout.trim()
      .split(": ")[1]!
      .trim()
      .split(" ")[0]!;
    const tmp = privateTmp();
    const dir = recipeDir("basic-scenario.yml", (t) =>
      t
        // Octogram's Prometheus agent: a third SSH login to the same machine.
        .replace(
          /^agents:/m,
          "prometheus_agent:\n  name: prometheus\n  address: 127.0.0.1\n  user: root\n  port: 30000\n  identity: ~/.ssh/tf\n\nagents:",
        )
        .replace(/address: 127\.0\.0\.1/g, `address: ${addr}`)
        .replace(/port: 30000/g, "port: 22")
        .replace(/identity: ~\/\.ssh\/tf/g, "identity: /run/troupe-lab/id_ed25519"),
    );
    const r = troupe(["play", "basic-scenario.yml"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    checkBasicRun(r.stdout, dir);
    // The first copy went into the agent's directory, before that directory existed (it used to replace it).
    const copied = said(r.stdout, "localhost").find((l) => l.startsWith("copied octez-client to "));
    assert.match(copied ?? "", /^copied octez-client to \/tmp\/troupe-play-[^/]+\/localhost\/octez-client$/);
    assert.ok(said(r.stdout, "node").some((l) => /^copied octez-node to \/tmp\/troupe-play-[^/]+\/node\/octez-node$/.test(l)));
    // Prometheus ran on the prometheus agent, scraped the node's and the DAL node's metrics there, and its data came home.
    const j = result(dir);
    assert.deepEqual(j.stages.flatMap((s) => s.hosts).includes("prometheus"), false);
    assert.ok(j.prometheus, "scenario.json has no prometheus");
    assert.equal(j.prometheus.host, "prometheus");
    assert.match(j.prometheus.url, new RegExp(`^http://${addr.replace(/\./g, "\\.")}:\\d+$`));
    assert.deepEqual([...j.prometheus.targets].sort(), [`http://${addr}:38702/metrics`, `http://${addr}:38712/metrics`]);
    assert.doesNotMatch(r.stdout + r.stderr, /targets not up/);
    assert.match(readFileSync(join(j.prometheus.dir, "prometheus.log"), "utf8"), /See you next time/);
    const dump = spawnSync("promtool", ["tsdb", "dump", join(j.prometheus.dir, "data")], { encoding: "utf8" });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, /^\{__name__="octez_store_last_written_block_level", [^}]*job="node"[^}]*\} \d+ \d+$/m);
    assert.match(dump.stdout, /^\{__name__="octez_dal_node_slots_published", [^}]*job="dal_node"[^}]*\} \d+ \d+$/m);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    const down = troupe(["lab", "down", "--name", name]);
    assert.equal(down.status, 0, down.stderr);
  }
});

test("with_agents matches anywhere in a name, as Octogram's; agent.name, re, names ending in _ and YAML read as Octogram reads it", () => {
  const dir = project({
    "r.yml": `agents:
  - {name: boot_, address: 10.1.1.1, user: root, port: 22, identity: k}
  - {name: delegate_0, address: 10.1.1.2, user: root, port: 22, identity: k}
  - {name: delegate_1, address: 10.1.1.3, user: root, port: 22, identity: k}
  - {name: '7', address: 10.1.1.4, user: root, port: 22, identity: k}
vars:
  seen: ''
stages:
  - name: delegates
    with_agents: '(delegate_)(\\d)'
    jobs:
      - name: note
        copy: {local_path: r.yml, remote_path: 'copies/{{ agent.name }}.yml'}
        vars_updates:
          'at_{{ agent.name }}': '{{ re[1] }}{{ re[2] }}'
  - name: numbers
    with_agents: '^[0-9]*$'
    jobs:
      - name: items
        copy: {local_path: r.yml, remote_path: 'r-{{ item }}.yml'}
        with_items: [y, n, on, off, 0755, 1_000, "y"]
        vars_updates:
          seen: '{{ vars.seen }}{{ item }},'
`,
  });
  const r = troupe(["play", "--backend-as", "agents=local", "r.yml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const j = result(dir);
  assert.deepEqual(
    j.stages.map((s) => s.hosts),
    [["delegate_0", "delegate_1"], ["7"]],
  );
  assert.equal(j.vars["at_delegate_0"], "delegate_0");
  assert.equal(j.vars["at_delegate_1"], "delegate_1");
  // Octogram's YAML reader (OCaml's yaml package) reads y/n/on/off as booleans, 0755 as 755 and 1_000 as 1000; a quoted "y" stays text.
  assert.equal(j.vars["seen"], "true,false,true,false,755,1000,y,");
});

test("a troupe scenario reads y, n and on as text (YAML 1.2), Octogram's recipes as Octogram does", () => {
  const dir = project({
    "s.yaml": `hosts: [h]
vars: {seen: ''}
stages:
  - name: s
    jobs:
      - run: echo {{ item }}
        with_items: [y, n, on]
        vars_updates:
          seen: '{{ vars.seen }}{{ item }},'
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(result(dir).vars["seen"], "y,n,on,");
});

test("an unknown job kind names the kind and the plugins loaded, at its position", () => {
  const dir = project({
    "r.yml": `agents:
  - {name: a, address: 10.1.1.1, user: root, port: 22, identity: k}
stages:
  - name: s
    jobs:
      - name: j
        tezos.start_nodes:
          path_node: self://./octez-node
`,
  });
  const r = troupe(["play", "--check", "r.yml"], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /r\.yml:7:9: stages\[0\]\.jobs\[0\]\.tezos\.start_nodes: unknown job kind tezos\.start_nodes: no plugin provides it; plugins loaded: builtins \(builtins\.tar, builtins\.prefetch, builtins\.start_http_server\); tezos \(.*tezos\.start_node,/,
  );
});

test("a plugin job's arguments are checked before anything runs, at their file:line:col", () => {
  const dir = project({
    "r.yml": `agents:
  - {name: a, address: 10.1.1.1, user: root, port: 22, identity: k}
stages:
  - name: s
    jobs:
      - name: tar
        builtins.tar:
          contents: x
          archive: self://x.tar.gz
          action: compress
`,
  });
  const r = troupe(["play", "--check", "r.yml"], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /r\.yml:10:19: .*action: must be one of "create", "extract"/);
});

test("Octogram's keys and troupe's cannot be mixed in one file: the error is at the key", () => {
  const dir = project({
    "r.yml": `agents:
  - {name: a, address: 10.1.1.1, user: root, port: 22, identity: k}
stages:
  - name: s
    with_hosts: a
    jobs: []
`,
  });
  const r = troupe(["play", "--check", "r.yml"], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /r\.yml:5:5: stages\[0\]\.with_hosts: 'with_hosts' is troupe's key, but this file is an Octogram recipe \('agents' at line 1\); keys of the two cannot be mixed: write 'with_agents' here/,
  );
});

test("Jinja2 templates: arithmetic, int, default, loops; an undefined value is an error with file:line:col, stage, job and host", () => {
  const dir = project({
    "s.yaml": `hosts: [h-1]
vars:
  total: "40"
  conf: {}
  peers: [a, b]
stages:
  - name: sums
    jobs:
      - name: add
        run: echo "{{ vars.total | int + 2 }} {{ vars.missing | default(7) }} {% for p in vars.peers %}{{ p }}{% if not loop.last %}+{% endif %}{% endfor %} {{ (vars.peers | length) > 1 }}"
        vars_updates:
          total: {value: "{{ vars.total | int + res.stdout.split(' ')[0] | int }}", as: int}
  - name: strict
    jobs:
      - name: deep
        run: |
          echo before
          echo {{ vars.conf.port }}
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /h-1: 42 7 a\+b true\n/);
  assert.match(
    r.stdout,
    /s\.yaml:18:19: stages\[1\]\.jobs\[0\]\.run: stage "strict", job "deep", host h-1, template "echo \{\{ vars\.conf\.port \}\}": undefined variable vars\.conf\.port/,
  );
  assert.equal(result(dir).vars["total"], 82);
});

test("host counts come from vars: --var n=3 shrinks names: node-[1..{{ vars.n }}]", () => {
  const dir = project({
    "s.yaml": `hosts:
  - names: 'node-[1..{{ vars.n }}]'
vars:
  n: 6
stages:
  - name: s
    jobs:
      - run: echo up
`,
  });
  const six = troupe(["play", "--check", "s.yaml"], { cwd: dir });
  assert.equal(six.status, 0, six.stderr);
  assert.match(six.stdout, /hosts: 6\n {2}node-\[1-6\]/);
  const three = troupe(["play", "--var", "n=3", "s.yaml"], { cwd: dir });
  assert.equal(three.status, 0, three.stdout + three.stderr);
  assert.deepEqual(result(dir).stages[0]!.hosts, ["node-1", "node-2", "node-3"]);
});

test("--var with a name the scenario does not have is an error naming its variables", () => {
  const dir = project({ "s.yaml": "hosts: [h]\nvars: {rounds: 1, port: 80}\nstages:\n  - name: s\n    jobs: [{run: 'true'}]\n" });
  const r = troupe(["play", "--var", "round=3", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--var round: the scenario has no such variable \(its variables: port, rounds\)/);
});

test("a step whose directory cannot be entered fails instead of running in $HOME", () => {
  const dir = project({
    "s.yaml": `hosts: [h]
stages:
  - name: s
    jobs:
      - name: spoil
        run: cd / && rm -rf "$TROUPE_DIR" && echo not-a-directory > "$TROUPE_DIR"
      - name: after
        run: echo "ran in $(pwd)"
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /ran in/);
  assert.match(r.stdout, /h: after: FAILED/);
});

test("15 hosts at once: no MaxListenersExceededWarning", () => {
  const dir = project({ "s.yaml": "hosts:\n  - names: n-[1..15]\nstages:\n  - name: s\n    jobs: [{run: 'echo hi'}]\n" });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /MaxListenersExceededWarning/);
  assert.equal(result(dir).stages[0]!.hosts.length, 15);
});

test("Octogram's DAL throughput recipe on lab hosts: binaries downloaded, keys and parameters served, nodes, bakers and slots", async () => {
  const name = `octd${randomInt(1000, 9999)}`;
  const up = troupe(["lab", "up", "3", "--name", name]);
  assert.equal(up.status, 0, up.stderr);
  // The binaries come from a server of the test's, where the recipe has its cloud bucket.
  const server = createServer((req, res) => {
    const m = /^\/octez-bucket\/(octez-[a-z-]+)$/.exec(req.url ?? "");
    if (!m || !BINARIES.includes(m[1]!)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(join(OCTEZ, m[1]!)));
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  try {
    const lines = troupe(["exec", `lab:${name}`, "--", "hostname -I; ip route | sed -n 's/^default via \\([^ ]*\\).*/gw \\1/p'"])
      .stdout.trim()
      .split("\n");
    const addrs = lines
      .filter((l) => !l.includes(": gw "))
      .sort()
      .map((l) => l.split(": ")[1]!.trim().split(" ")[0]!);
    const gateway = lines
      .find((l) => l.includes(": gw "))!
      .split(": gw ")[1]!
      .trim();
    const port = (server.address() as { port: number }).port;
    const tmp = privateTmp();
    const dir = recipeDir("dal-throughput-scenario.yml", (t) =>
      t
        .replace(/ADDR_(\d)/g, (_m, i: string) => addrs[Number(i) - 1]!)
        .replace(/port: 30000/g, "port: 22")
        .replace(/identity: ~\/\.ssh\/tf/g, "identity: /run/troupe-lab/id_ed25519")
        .replace("BINARIES_SERVER", `${gateway}:${port}`),
    );
    const child = troupeAsync(["play", "dal-throughput-scenario.yml"], { cwd: dir, env: { TMPDIR: tmp } });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    assert.equal(status, 0, out);
    const j = result(dir);
    assert.deepEqual(
      j.stages.map((s) => s.hosts),
      [
        ["http_server", "boot_", "delegate_0", "0"],
        ["http_server"],
        ["http_server", "boot_", "delegate_0", "0"],
        ["boot_"],
        ["delegate_0"],
        ["0"],
        ["delegate_0"],
        ["0"],
      ],
    );
    // The attester's DAL node found its key by alias in the keys served by http_server; its baker bakes for it.
    assert.ok(
      said(out, "delegate_0").some((l) =>
        /^octez-baker: baking for delegate_0 with node http:\/\/[\d.]+:38801 and DAL node http:\/\/[\d.]+:38811$/.test(l),
      ),
      out,
    );
    // The producer publishes its slots, each a level before its target.
    for (const target of [10, 11, 12, 13]) assert.ok(publishedFor(said(out, "0"), target), out);
    assert.deepEqual(labLeftovers(child.pid!, tmp), []);
  } finally {
    server.close();
    const down = troupe(["lab", "down", "--name", name]);
    assert.equal(down.status, 0, down.stderr);
  }
});

test("octogram_binary and prometheus_agent are accepted: no agent binary, Prometheus on the prometheus agent", () => {
  const dir = project({
    "r.yml": `octogram_binary:
  pull: 'https://example.org/octogram'
prometheus_agent: {name: prom, address: 10.1.1.9, user: root, port: 22, identity: k}
agents:
  - {name: a, address: 10.1.1.1, user: root, port: 22, identity: k}
stages:
  - name: s
    jobs:
      - name: serve
        builtins.start_http_server: {}
`,
  });
  const r = troupe(["play", "--check", "r.yml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^scenario r \(r\.yml, an Octogram recipe\)\n/);
  assert.match(r.stdout, /^prometheus: on prom \(a host of its own, agents:prom\)$/m);
  assert.match(r.stdout, /^hosts: 1\n {2}a \(agents:a\)$/m);
  assert.match(r.stdout, / {2}builtins\.start_http_server serve\n/);
});
