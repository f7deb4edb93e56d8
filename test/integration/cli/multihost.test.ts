// Multi-host jobs through the CLI: the examples/multihost project (a server
// and two clients, a ring, a migration) on local processes and on lab hosts,
// per-host results in run.json, JUnit and logs, prefixed live output, ports
// reserved with `ports:`, and poison when one host fails in the middle of a
// barrier.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe } from "./helpers.js";

const EXAMPLE = join(REPO, "examples/multihost");

/**
 * A hook's lines: its own log, or its section of the run's output.log
 * (from its `==> ... <==` header to the next). Undefined when output.log has
 * no such section.
 */
function hookText(runDir: string, logPath: string, header: string): string | undefined {
  const text = readFileSync(join(runDir, logPath), "utf8");
  if (!logPath.endsWith("output.log")) return text;
  const start = text.indexOf(header + "\n");
  if (start < 0) return undefined;
  const body = text.slice(start + header.length + 1);
  const next = body.search(/^==> .* <==$/m);
  return next < 0 ? body : body.slice(0, next);
}

interface HostEntry {
  name: string;
  as?: string;
  role?: string;
  status: string;
  exitCode: number | null;
  durationMs: number;
  logPath?: string;
  logs?: string[];
  error?: string;
}
interface JobEntry {
  name: string;
  status: string;
  dir?: string;
  hosts: HostEntry[];
  reason?: string;
}

interface ExampleRun {
  readonly r: ReturnType<typeof troupe>;
  readonly jobs: JobEntry[];
  readonly junit: string;
  readonly runDir: string;
}

/** Run the example project once with -vv, --json and --junit; its run directory is the caller's to remove. */
function runExample(extra: readonly string[], env: Record<string, string> = {}): ExampleRun {
  const out = mkdtempSync(join(tmpdir(), "troupe-mh-"));
  try {
    const r = troupe(["run", "--project", EXAMPLE, "-vv", `--json=${join(out, "run.json")}`, "--junit", join(out, "junit.xml"), ...extra], {
      env,
    });
    assert.ok(existsSync(join(out, "run.json")), r.stdout + r.stderr);
    const json = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { runId: string; jobs: JobEntry[] };
    return {
      r,
      jobs: json.jobs,
      junit: readFileSync(join(out, "junit.xml"), "utf8"),
      runDir: join(EXAMPLE, ".troupe", "runs", json.runId),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const EXPECTED: Record<string, { role: string; as: string }[]> = {
  "cluster/http": [
    { role: "server", as: "server" },
    { role: "client", as: "client-1" },
    { role: "client", as: "client-2" },
  ],
  "cluster/ring": [1, 2, 3, 4].map((i) => ({ role: "node", as: `node-${i}` })),
  "cluster/migration": [
    { role: "old", as: "old" },
    { role: "new", as: "new" },
  ],
};

function checkExample(run: ExampleRun): void {
  const { r, jobs, junit, runDir } = run;
  try {
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Successful tasks: 3\n/);
    const byTask = new Map(jobs.map((j) => [j.name.split(":")[2], j]));
    const logText: Record<string, string> = {};
    for (const [task, expected] of Object.entries(EXPECTED)) {
      const job = byTask.get(task);
      assert.ok(job, `no job for ${task}`);
      assert.equal(job.status, "passed");
      // One entry per host, each a different machine, in the job's order of roles.
      assert.deepEqual(
        job.hosts.map((h) => ({ role: h.role, as: h.as })),
        expected,
        `${task}: ${JSON.stringify(job.hosts)}`,
      );
      assert.equal(new Set(job.hosts.map((h) => h.name)).size, expected.length, "each host a machine of its own");
      for (const h of job.hosts) {
        assert.equal(h.status, "passed");
        assert.equal(h.exitCode, 0);
        assert.equal(typeof h.durationMs, "number");
        assert.equal(h.error, undefined);
        // Its own log when it ran long, else its section of the run's output.log.
        assert.ok([`${job.dir}/execute.${h.as}.log`, "output.log"].includes(h.logPath!), h.logPath);
        const text = hookText(runDir, h.logPath!, `==> ${job.name} on ${h.name} as ${h.as}: execute <==`);
        assert.ok(text !== undefined, `no section for ${h.as} in ${h.logPath}`);
        logText[`${task} ${h.as}`] = text;
        // The JUnit file lists every host of the job with its status, exit status, duration and log.
        const line = new RegExp(
          `^ {2}${h.as} \\(${h.name}\\): passed, exit status 0, \\d+s, log ${h.logPath!.replace(/[.]/g, "\\.")}$`,
          "m",
        );
        assert.match(junit, line);
      }
    }
    // Each host's log holds that host's own output, and only its own.
    assert.match(logText["cluster/http client-1"]!, /^client-1 fetched from server at \S+:\d+$/m);
    assert.doesNotMatch(logText["cluster/http client-1"]!, /client-2 fetched/);
    assert.match(logText["cluster/http client-2"]!, /^client-2 fetched from server at \S+:\d+$/m);
    assert.match(logText["cluster/http server"]!, /^server listening on port \d+$/m);
    for (let i = 1; i <= 4; i++) {
      const hops = logText[`cluster/ring node-${i}`]!.match(/^node-\d made hop \d+$/gm) ?? [];
      assert.deepEqual(
        hops,
        [i, i + 4, i + 8].map((k) => `node-${i} made hop ${k}`),
      );
    }
    assert.match(logText["cluster/migration old"]!, /^old: handed over 500 numbers$/m);
    assert.match(logText["cluster/migration new"]!, /^new: resumed at 501, now 510 numbers$/m);
    // Every script of every host is in a log: the server's prepare and restore too.
    const http = byTask.get("cluster/http")!;
    const server = http.hosts.find((h) => h.as === "server")!;
    for (const phase of ["prepare", "restore"]) {
      const header = `==> ${http.name} on ${server.name} as server: ${phase} <==`;
      assert.ok(
        server.logs!.some((l) => existsSync(join(runDir, l)) && hookText(runDir, l, header) !== undefined),
        `${phase} of the server in ${server.logs!.join(", ")}`,
      );
    }
    // The port was reserved before the job started: the server listened on it, the clients knew it.
    const port = /^server listening on port (\d+)$/m.exec(logText["cluster/http server"]!)![1];
    assert.match(logText["cluster/http client-2"]!, new RegExp(`^client-2 fetched from server at \\S+:${port}$`, "m"));
    // Live output of a multi-host job is prefixed with the host's name in the job.
    assert.match(r.stdout, /^client-1: client-1 fetched from server at \S+:\d+$/m);
    assert.match(r.stdout, /^node-3: node-3 made hop 7$/m);
    assert.match(r.stdout, /^new: new: resumed at 501, now 510 numbers$/m);
    assert.match(r.stdout, /Executing local:debian:cluster\/http \(debian-\d as client-2\) \(\d\/3\)\.\.\./);
  } finally {
    rmSync(runDir, { recursive: true, force: true });
    // The example's .troupe/runs, unless someone else's runs are in it.
    for (const d of [join(EXAMPLE, ".troupe", "runs"), join(EXAMPLE, ".troupe")]) {
      try {
        rmdirSync(d);
      } catch {
        break; // not empty, or already gone
      }
    }
  }
}

test("the multi-host example passes on local processes: per-host results in run.json, JUnit and logs, prefixed live output", () => {
  checkExample(runExample([]));
});

test("the same example passes on four lab hosts, across real addresses, and leaves nothing behind", () => {
  const tmp = privateTmp();
  try {
    const run = runExample(["--backend-as", "local=lab"], { TMPDIR: tmp });
    const stdout = run.r.stdout;
    checkExample(run);
    assert.match(stdout, /Allocated local:debian \(debian-\d+\) at 10\.213\./);
    // The clients reached the server at its own address, on the port reserved for it.
    assert.match(stdout, /^client-1: client-1 fetched from server at 10\.213\.\d+\.\d+:\d+$/m);
    assert.deepEqual(labLeftovers(run.r.pid, tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

const POISON_PROJECT =
  "project: poison\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 3\nsuites:\n  s/:\n    summary: s\n";

test("a host that fails in the middle of a barrier fails the job; the others' waits fail at once, naming it, in the summary and JUnit too", () => {
  const dir = project({
    "troupe.yaml": POISON_PROJECT,
    "s/t/task.yaml": `summary: one host gives up between two barriers
hosts:
  peer: {count: 2}
  lead: {}
execute/lead: |
  troupe-ctl barrier start
  echo "lead gives up"
  exit 1
execute/peer: |
  troupe-ctl barrier start
  troupe-ctl barrier middle
  echo "never here"
`,
  });
  try {
    const junit = join(dir, "junit.xml");
    const r = troupe(["run", "--junit", junit], { cwd: dir });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    // The summary names the host that failed, though it comes last in the job.
    assert.match(r.stdout, /Failed tasks: 1\n\s+- local:sys:s\/t \(execute failed on lead: exit status 1\)\n/);
    assert.match(r.stdout, /Error executing local:sys:s\/t \(sys-\d as lead\) :/);
    // Both peers' barrier failed because of lead, not a timeout; neither went on.
    assert.equal(
      (r.stdout.match(/troupe-ctl: barrier middle: poisoned: host lead failed: execute task failed on lead: exit status 1/g) ?? []).length,
      2,
    );
    assert.doesNotMatch(r.stdout, /never here\n/);

    const xml = readFileSync(junit, "utf8");
    assert.match(xml, /<failure message="failed on lead, peer-\d, peer-\d: execute failed on lead: exit status 1"/);
    assert.match(xml, /^ {2}lead \(sys-\d\): failed, exit status 1, /m);
    assert.match(xml, /^ {2}peer-1 \(sys-\d\): failed, exit status 125, /m);

    const runJson = JSON.parse(readFileSync(join(dir, ".troupe", "runs", onlyRun(dir), "run.json"), "utf8")) as { jobs: JobEntry[] };
    const [job] = runJson.jobs;
    assert.equal(job!.status, "failed");
    assert.equal(job!.reason, "execute failed on lead: exit status 1");
    assert.deepEqual(
      job!.hosts.map((h) => [h.as, h.status, h.exitCode, h.error]),
      [
        ["peer-1", "failed", 125, "execute: exit status 125"],
        ["peer-2", "failed", 125, "execute: exit status 125"],
        ["lead", "failed", 1, "execute: exit status 1"],
      ],
      "lead exits 1; the poisoned peers exit with troupe-ctl's 125",
    );
    const lead = job!.hosts.find((h) => h.as === "lead")!;
    assert.equal(readFileSync(join(dir, ".troupe", "runs", onlyRun(dir), lead.logPath!), "utf8").includes("lead gives up\n"), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ports: reserved before the job starts, known to every host; TROUPE_PORTS still works; a single-host task can reserve one", () => {
  const dir = project({
    "troupe.yaml": POISON_PROJECT.replace("project: poison", "project: ports"),
    "s/pair/task.yaml": `summary: a server's ports, known in advance
hosts:
  server: {}
  client: {}
ports:
  server: [http, admin]
environment:
  TROUPE_PORTS: metrics
execute: |
  echo "$TROUPE_HOST sees http=$TROUPE_PORT_HTTP admin=$(troupe-ctl port admin) metrics=$TROUPE_PORT_METRICS"
  [ "$TROUPE_PORT_HTTP" != "$TROUPE_PORT_ADMIN" ]
  ! troupe-ctl port nope 2>err || exit 1
  cat err
`,
    "s/alone/task.yaml": `summary: one host, one port
ports: [web]
execute: |
  echo "alone: web=$TROUPE_PORT_WEB from ctl $(troupe-ctl port web)"
`,
  });
  try {
    const list = troupe(["list", "--json", "s/pair"], { cwd: dir });
    assert.equal(list.status, 0, list.stderr);
    const planned = JSON.parse(list.stdout) as { ports?: unknown }[];
    assert.deepEqual(planned[0]!.ports, [
      { name: "http", on: "server", env: "TROUPE_PORT_HTTP" },
      { name: "admin", on: "server", env: "TROUPE_PORT_ADMIN" },
      { name: "metrics", env: "TROUPE_PORT_METRICS" },
    ]);

    const r = troupe(["run", "-vv"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const seen = [...r.stdout.matchAll(/^(server|client): \1 sees http=(\d+) admin=(\d+) metrics=(\d+)$/gm)].map((m) =>
      m.slice(2).join(" "),
    );
    assert.equal(seen.length, 2, r.stdout);
    assert.equal(seen[0], seen[1], "both hosts know the same ports");
    for (const p of seen[0]!.split(" ").map(Number)) assert.ok(p >= 20000 && p <= 29999, `${p} in troupe's range`);
    assert.match(r.stdout, /^(server|client): troupe-ctl: port nope: no port of that name; reserved: admin, http, metrics$/m);
    // -vv with three workers: the single-host job's lines say their host (other jobs run at the same time).
    const alone = /^sys-\d: alone: web=(\d+) from ctl (\d+)$/m.exec(r.stdout);
    assert.ok(alone, r.stdout);
    assert.equal(alone[1], alone[2]);
    assert.match(r.stdout, /local:sys:s\/pair: reserved ports http=\d+ on server, admin=\d+ on server, metrics=\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a mistake in ports: is found before anything runs: exit 2, file:line:col and a suggestion", () => {
  const dir = project({
    "troupe.yaml": POISON_PROJECT,
    "s/t/task.yaml": "summary: a typo\nhosts:\n  server: {}\nports:\n  sever: [http]\nexecute: 'true'\n",
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /s\/t\/task\.yaml:5:3: ports\.sever: 'sever' is not a role or host of this task \(roles: server; hosts: server\); did you mean 'server'\?/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.equal(existsSync(join(dir, ".troupe")), false, "nothing ran");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The project's one run. */
function onlyRun(dir: string): string {
  const ids = readdirSync(join(dir, ".troupe", "runs"));
  assert.equal(ids.length, 1);
  return ids[0]!;
}

test("a link cut in a multi-host job is blamed on the host that lost its link, not on the peer its loss poisoned", async () => {
  const { troupeAsync } = await import("./helpers.js");
  const tmp = privateTmp();
  const dir = project({
    "troupe.yaml":
      "project: cut\nbackends:\n  lab:\n    systems:\n      - debian-lab:\n          workers: 2\nsuites:\n  s/:\n    summary: s\n",
    "s/pair/task.yaml": `summary: one host loses its link while the other waits for it
hosts:
  cut: {}
  peer: {}
execute/cut: |
  troupe-ctl barrier ready --timeout 60s
  echo "cut is ready"
  sleep 600
execute/peer: |
  troupe-ctl barrier ready --timeout 60s
  troupe-ctl barrier done --timeout 300s
`,
  });
  const child = troupeAsync(["run", "-vv"], { cwd: dir, env: { TMPDIR: tmp } });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const end = Date.now() + 120_000;
    while (!/cut is ready/.test(out)) {
      if (Date.now() > end) throw new Error(`the job never got going:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Which lab machine plays `cut`, and its link on the lab bridge.
    const machine = /Executing \S+ \((\S+) as cut\)/.exec(out)?.[1];
    assert.ok(machine, out);
    const records = "/run/troupe-lab/hosts";
    const rec = readdirSync(records)
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(records, f), "utf8")) as { name: string; slot: number; owner?: { pid?: number } })
      .find((r) => r.name === machine && r.owner?.pid === child.pid);
    assert.ok(rec, `no lab record for ${machine}`);
    const { execFileSync } = await import("node:child_process");
    execFileSync("ip", ["link", "set", `tlab${rec.slot}`, "down"]);
    assert.equal(await exited, 1, out);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  }
  const runs = join(dir, ".troupe", "runs");
  const run = JSON.parse(readFileSync(join(runs, readdirSync(runs)[0]!, "run.json"), "utf8")) as { jobs: JobEntry[] };
  const job = run.jobs[0]!;
  assert.equal(job.status, "failed");
  assert.match(job.reason ?? "", /^execute failed on cut: /, `the reason names the host that lost its link: ${job.reason}`);
  assert.match(out, /Failed tasks: 1\n\s+- \S+ \(execute failed on cut: /);
  assert.deepEqual(labLeftovers(child.pid!, tmp), []);
  rmSync(dir, { recursive: true, force: true });
});
