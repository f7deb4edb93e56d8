// `troupe run` end to end on the local backend: real processes, real files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lines, project, REPO, troupe, troupeAsync } from "./helpers.js";
import { processAlive as alive } from "../../support/processes.js";

/** Hooks at every level append their name to $TRACE. */
function hookProject(trace: string): Record<string, string> {
  const t = (name: string): string => `echo ${name} >> ${trace}`;
  return {
    "troupe.yaml": `project: hooks
environment:
  LEVEL: project
  FROM_PROJECT: p
  COMBINED: "$FROM_PROJECT-x"
prepare: ${t("project-prepare")}
restore: ${t("project-restore")}
prepare-each: ${t("project-prepare-each")}
restore-each: ${t("project-restore-each")}
backends:
  local:
    environment:
      LEVEL: backend
    prepare: ${t("backend-prepare")}
    restore: ${t("backend-restore")}
    prepare-each: ${t("backend-prepare-each")}
    restore-each: ${t("backend-restore-each")}
    systems:
      - localhost:
          environment:
            LEVEL: system
suites:
  s1/:
    summary: first
    environment:
      LEVEL: suite
    prepare: ${t("suite1-prepare")}
    restore: ${t("suite1-restore")}
    prepare-each: ${t("suite1-prepare-each")}
    restore-each: ${t("suite1-restore-each")}
`,
    "s1/a/task.yaml": `summary: a
environment:
  LEVEL: task
prepare: ${t("a-prepare")}
execute: |
  ${t("a-execute")}
  echo "LEVEL=$LEVEL COMBINED=$COMBINED JOB=$SPREAD_JOB TJOB=$TROUPE_JOB SUITE=$SPREAD_SUITE TASK=$SPREAD_TASK PWD=$(pwd)" >> ${trace}.env
restore: ${t("a-restore")}
`,
  };
}

test("hooks run in Spread's order, restores in reverse, and the environment cascades", () => {
  const dir = project({});
  const trace = join(dir, "trace");
  const p = project(hookProject(trace));
  const r = troupe(["run"], { cwd: p });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(readFileSync(trace, "utf8").trim().split("\n"), [
    "project-prepare",
    "backend-prepare",
    "suite1-prepare",
    "project-prepare-each",
    "backend-prepare-each",
    "suite1-prepare-each",
    "a-prepare",
    "a-execute",
    "a-restore",
    "suite1-restore-each",
    "backend-restore-each",
    "project-restore-each",
    "suite1-restore",
    "backend-restore",
    "project-restore",
  ]);
  const env = readFileSync(trace + ".env", "utf8").trim();
  assert.match(env, /^LEVEL=task COMBINED=p-x JOB=local:localhost:s1\/a TJOB=local:localhost:s1\/a SUITE=s1\/ TASK=s1\/a PWD=\S+\/s1\/a$/);
});

test("MATCH and NOMATCH fail with Spread's messages, and the failing output is shown", () => {
  const p = project({
    "troupe.yaml": "project: m\nsuites:\n  t/:\n    summary: s\n",
    "t/match/task.yaml": "summary: m\nexecute: |\n  echo 'hello there' | MATCH 'good ?bye'\n",
    "t/nomatch/task.yaml": "summary: n\nexecute: |\n  echo 'hello there' | NOMATCH 'hel+o'\n",
    "t/ok/task.yaml": "summary: ok\nexecute: |\n  echo 'hello there' | MATCH '^hel+o'\n  echo 'hello' | NOMATCH bye\n",
  });
  const r = troupe(["run", "--seed", "1"], { cwd: p });
  assert.equal(r.status, 1);
  assert.match(
    r.stdout,
    /Error executing local:localhost:t\/match \(localhost-1\) :\n-----\n[\s\S]*grep error: pattern not found, got:\nhello there\n[\s\S]*-----/,
  );
  assert.match(r.stdout, /Error executing local:localhost:t\/nomatch [\s\S]*NOMATCH pattern='hel\+o' found in:\nhello there/);
  assert.deepEqual(lines(r.stdout).slice(-5), [
    "Successful tasks: 1",
    "Aborted tasks: 0",
    "Failed tasks: 2",
    "    - local:localhost:t/match",
    "    - local:localhost:t/nomatch",
  ]);
});

test("kill-timeout kills the whole process group, warn-timeout shows progress", () => {
  const dir = project({});
  const pidFile = join(dir, "child.pid");
  const p = project({
    "troupe.yaml": "project: t\nsuites:\n  t/:\n    summary: s\n",
    "t/slow/task.yaml": `summary: slow
warn-timeout: 300ms
kill-timeout: 1500ms
execute: |
  sleep 600 &
  echo $! > ${pidFile}
  echo still working
  wait
`,
  });
  const r = troupe(["run"], { cwd: p });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /WARNING: .*running late/);
  assert.match(r.stdout, /still working/);
  assert.match(r.stdout, /Failed tasks: 1/);
  const pid = Number(readFileSync(pidFile, "utf8"));
  assert.equal(alive(pid), false, "the background sleep survived the kill-timeout");
});

test("a failing restore breaks the worker and aborts its remaining jobs", () => {
  const p = project({
    "troupe.yaml": "project: b\nsuites:\n  t/:\n    summary: s\n",
    "t/a/task.yaml": "summary: a\npriority: 10\nexecute: true\nrestore: exit 1\n",
    "t/b/task.yaml": "summary: b\nexecute: true\n",
    "t/c/task.yaml": "summary: c\nexecute: true\n",
  });
  const r = troupe(["run"], { cwd: p });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /Error restoring local:localhost:t\/a/);
  assert.match(r.stdout, /Aborted tasks: 2/);
  assert.match(r.stdout, /Failed task restore: 1\n\s+- local:localhost:t\/a/);
});

test("artifacts are fetched into DIR/<backend>/<system>/<task>/, no `:` in the path, also from a failing task", () => {
  const p = project({
    "troupe.yaml": "project: a\nsuites:\n  t/:\n    summary: s\n",
    "t/good/task.yaml":
      "summary: g\nartifacts: [out.txt, logs]\nexecute: |\n  echo result > out.txt\n  mkdir -p logs && echo l > logs/one.log\n",
    "t/bad/task.yaml": "summary: b\nartifacts: [crash.txt]\nexecute: |\n  echo crashed > crash.txt\n  exit 1\n",
  });
  const art = join(p, "art");
  const r = troupe(["run", `--artifacts=${art}`], { cwd: p });
  assert.equal(r.status, 1);
  assert.equal(readFileSync(join(art, "local/localhost/t/good", "out.txt"), "utf8"), "result\n");
  assert.equal(readFileSync(join(art, "local/localhost/t/good", "logs/one.log"), "utf8"), "l\n");
  assert.equal(readFileSync(join(art, "local/localhost/t/bad", "crash.txt"), "utf8"), "crashed\n");
  // Nothing actions/upload-artifact refuses, anywhere under the folder.
  const paths = readdirSync(art, { recursive: true }).map(String);
  assert.deepEqual(
    paths.filter((f) => /["":<>|*?\r\n]/.test(f)),
    [],
  );
});

test("the same seed gives the same order; the run prints its seed", () => {
  const files: Record<string, string> = {
    "troupe.yaml": "project: s\nsuites:\n  t/:\n    summary: s\n",
  };
  for (const n of ["a", "b", "c", "d", "e", "f", "g", "h"]) files[`t/${n}/task.yaml`] = `summary: ${n}\nexecute: true\n`;
  const p = project(files);
  const order = (seed: string): string[] => {
    const r = troupe(["run", "--seed", seed], { cwd: p });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`-seed=${seed}`));
    return lines(r.stdout)
      .filter((l) => l.startsWith("Executing"))
      .map((l) => l.split(" ")[1]!);
  };
  const first = order("42");
  assert.equal(first.length, 8);
  assert.deepEqual(order("42"), first);
  const others = ["1", "2", "3", "4"].map(order);
  assert.ok(
    others.some((o) => JSON.stringify(o) !== JSON.stringify(first)),
    "every seed gave the same order",
  );
});

test("--backend-as runs a Spread lxd project on the local backend; -repeat reruns", () => {
  const p = project({
    "spread.yaml": "project: s\npath: /remote/s\nbackends:\n  lxd:\n    systems: [ubuntu-16.04]\nsuites:\n  t/:\n    summary: s\n",
    "t/a/task.yaml":
      'summary: a\nexecute: |\n  test "$SPREAD_BACKEND" = lxd\n  test "$SPREAD_SYSTEM" = ubuntu-16.04\n  test "$SPREAD_PATH" = "$(cd ../.. && pwd)"\n  echo run >> "$SPREAD_PATH/../../../runs-count"\n',
  });
  const r = troupe(["spread", "--backend-as", "lxd=local", "-repeat=2"], { cwd: p });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(lines(r.stdout).filter((l) => l.startsWith("Executing lxd:ubuntu-16.04:t/a")).length, 3);
});

test("run.json and JUnit XML describe every job and hook", () => {
  const p = project({
    "troupe.yaml": "project: r\nsuites:\n  t/:\n    summary: s\n",
    "t/pass/task.yaml": "summary: p\nexecute: echo fine\n",
    "t/fail/task.yaml": "summary: f\nexecute: |\n  echo '<broken & bad>'\n  exit 3\n",
  });
  const junit = join(p, "out", "junit.xml");
  const json = join(p, "out", "run.json");
  const r = troupe(["run", "--junit", junit, `--json=${json}`], { cwd: p });
  assert.equal(r.status, 1);
  const run = JSON.parse(readFileSync(json, "utf8")) as {
    jobs: { name: string; status: string; hooks: { phase: string; exitCode: number | null; log?: string; durationMs: number }[] }[];
  };
  const byName = new Map(run.jobs.map((j) => [j.name, j]));
  assert.equal(byName.get("local:localhost:t/pass")?.status, "passed");
  const failed = byName.get("local:localhost:t/fail");
  assert.equal(failed?.status, "failed");
  const exec = failed?.hooks.find((h) => h.phase === "execute");
  assert.equal(exec?.exitCode, 3);
  const runs = readdirSync(join(p, ".troupe", "runs"));
  assert.equal(runs.length, 1);
  assert.ok(existsSync(join(p, ".troupe", "runs", runs[0]!, "run.json")));
  const xml = readFileSync(junit, "utf8");
  assert.match(xml, /<testsuite name="local:localhost:t\/" tests="2" failures="1"/);
  assert.match(xml, /&lt;broken &amp; bad&gt;/);
});

test("the example project runs on the local backend: variants, hooks and an artifact", () => {
  const art = join(project({}), "artifacts");
  const r = troupe(["run", "--project", join(REPO, "examples/basics"), "--artifacts", art]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Successful tasks: 5/);
  assert.equal(
    readFileSync(join(art, "local/localhost/checks/report", "report.txt"), "utf8"),
    "Hello, troupe!\nBonjour, troupe !\nHallo, troupe!\n",
  );
});

test("a reader that goes away (troupe run | head -1) does not stop the run half-way", async () => {
  const marks = join(project({}), "restored");
  const p = project({
    "troupe.yaml": "project: e\nsuites:\n  t/:\n    summary: s\n",
    "t/a/task.yaml": `summary: a\nexecute: |\n  for i in 1 2 3 4 5; do echo line $i; done\n  sleep 0.3\nrestore: echo restored >> ${marks}\n`,
  });
  const child = troupeAsync(["run", "-vv"], { cwd: p });
  await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
  child.stdout?.destroy(); // the reader is gone: further writes get EPIPE
  const status = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  assert.equal(status, 0);
  assert.equal(readFileSync(marks, "utf8"), "restored\n");
});

test("keys of troupe's own backends (ssh hosts, lab tmpfs-size) are accepted in troupe.yaml", () => {
  const p = project({
    "troupe.yaml":
      "project: k\nbackends:\n  edge:\n    type: ssh\n    systems:\n      - debian-edge:\n          hosts: ['root@node[1-2]']\n          sudo: false\n  lab:\n    tmpfs-size: 512M\n    systems: [debian-lab]\nsuites:\n  t/:\n    summary: s\n",
    "t/a/task.yaml": "summary: a\nexecute: true\n",
  });
  const r = troupe(["list"], { cwd: p });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["edge:debian-edge:t/a", "lab:debian-lab:t/a"]);
});
