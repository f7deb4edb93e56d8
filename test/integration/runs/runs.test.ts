// `troupe runs`: the runs a project kept, listed, shown (summary, failures
// with the end of their output and their logs, the report in a browser) and
// pruned; a run killed with SIGKILL is found and marked `killed` by the next
// look, and never pruned while it still runs.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { watch, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { project, troupe, troupeAsync } from "../cli/helpers.js";
import { makeFifo } from "../serve/browser.js";

interface Listed {
  readonly id: string;
  readonly status: string;
  readonly kind: string;
  readonly killed: boolean;
  readonly counts?: { total: number; passed: number; failed: number; aborted: number };
}

function listed(dir: string, args: readonly string[] = []): Listed[] {
  const r = troupe(["runs", "--json", ...args], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
}

function gatedProject(): { dir: string; fifo: string } {
  const fifo = makeFifo();
  const dir = project({
    "troupe.yaml": "project: runs-list\nbackends:\n  local:\n    systems: [box]\nsuites:\n  s/:\n    summary: s\n",
    "s/ok/task.yaml": "summary: ok\nexecute: echo fine\n",
    "s/bad/task.yaml": "summary: bad\nprepare: |\n  echo preparing\n  echo the end of it\n  exit 3\nexecute: echo never\n",
    "s/wait/task.yaml": `summary: wait\nmanual: true\nexecute: |\n  echo waiting\n  read line < ${fifo}\n`,
  });
  return { dir, fifo };
}

/** Resolves once `path` exists and ends with a newline. */
async function fileWritten(path: string): Promise<void> {
  const ready = (): boolean => existsSync(path) && readFileSync(path, "utf8").endsWith("\n");
  const stop = new AbortController();
  const watcher = watch(dirname(path), { signal: stop.signal });
  try {
    if (ready()) return;
    for await (const _ of watcher) if (ready()) return;
  } catch (err) {
    if ((err as Error).name !== "AbortError") throw err;
  } finally {
    stop.abort();
  }
}

/** `troupe run -vv s/wait`, once its job's script is waiting on the FIFO. */
async function waitingRun(dir: string): Promise<ChildProcess> {
  const child = troupeAsync(["run", "-vv", "s/wait"], { cwd: dir });
  let out = "";
  await new Promise<void>((resolve) =>
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/waiting/.test(out)) resolve();
    }),
  );
  return child;
}

/** SIGKILL troupe; then let its job's script, which outlived it (SIGKILL leaves no time to clean up), end. */
async function killOutright(child: ChildProcess, fifo: string): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
  await writeFile(fifo, "go\n");
}

test("runs lists each run; show gives a run's failures with their output and logs; --open hands the report to the browser", async () => {
  const { dir } = gatedProject();
  assert.equal(troupe(["run"], { cwd: dir }).status, 1);
  assert.equal(troupe(["run", "s/ok"], { cwd: dir }).status, 0);
  const runs = listed(dir);
  assert.deepEqual(
    runs.map((r) => [r.kind, r.status, r.counts?.total]),
    [
      ["run", "failed", 2],
      ["run", "passed", 1],
    ],
  );
  const table = troupe(["runs"], { cwd: dir }).stdout;
  assert.match(table, /^ID +STARTED +KIND +STATUS +TOOK +RESULTS$/m);
  assert.match(table, new RegExp(`^${runs[0]!.id} .* failed .* 2 jobs: 1 passed, 1 aborted$`, "m"));

  const latest = troupe(["runs", "show"], { cwd: dir });
  assert.match(latest.stdout, new RegExp(`^run ${runs[1]!.id}: passed$`, "m"));
  assert.doesNotMatch(latest.stdout, /Failures/);
  const shown = troupe(["runs", "show", runs[0]!.id.slice(0, 18)], { cwd: dir });
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^Failures:$/m);
  assert.match(shown.stdout, /^ {2}aborted local:box:s\/bad: prepare failed: exit status 3$/m);
  assert.match(shown.stdout, /^ {4}\| the end of it$/m);
  const log = /^ {4}log: (\S+)$/m.exec(shown.stdout);
  assert.ok(log, shown.stdout);
  assert.match(readFileSync(join(dir, log[1]!), "utf8"), /preparing/);

  const asJson = JSON.parse(troupe(["runs", "show", "--json", runs[0]!.id], { cwd: dir }).stdout) as { runId: string };
  assert.equal(asJson.runId, runs[0]!.id);

  // --open: $BROWSER gets the report's path.
  const bin = mkdtempSync(join(tmpdir(), "troupe-browser-"));
  const said = join(bin, "said");
  writeFileSync(join(bin, "browser"), `#!/bin/sh\necho "$@" > ${said}\n`);
  chmodSync(join(bin, "browser"), 0o755);
  const opened = troupe(["runs", "show", "--open"], { cwd: dir, env: { BROWSER: join(bin, "browser") } });
  assert.equal(opened.status, 0, opened.stderr);
  const report = join(dir, ".troupe", "runs", runs[1]!.id, "report.html");
  assert.match(opened.stdout, /^opened .*report\.html with /m);
  // Started detached: wait for what it writes by watching its folder, not by sleeping.
  await fileWritten(said);
  assert.equal(readFileSync(said, "utf8"), `${report}\n`);
  // Without a browser: the path, and why.
  const none = troupe(["runs", "show", "--open"], { cwd: dir, env: { BROWSER: "", PATH: "" } });
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, `no browser to open it with (set $BROWSER, or install xdg-open): ${report}\n`);

  const missing = troupe(["runs", "show", "nope"], { cwd: dir });
  assert.equal(missing.status, 2, missing.stdout);
  assert.match(missing.stderr, /no run nope in .*troupe runs lists them/);
});

test("prune keeps the newest runs and moves latest; a bad rule is refused", () => {
  const { dir } = gatedProject();
  for (let i = 0; i < 3; i++) assert.equal(troupe(["run", "s/ok"], { cwd: dir }).status, 0);
  const before = listed(dir).map((r) => r.id);
  const dry = troupe(["runs", "prune", "--keep", "1", "--dry-run"], { cwd: dir });
  assert.match(dry.stdout, /2 run\(s\) would be removed, 1 left/);
  assert.equal(listed(dir).length, 3);
  const pruned = troupe(["runs", "prune", "--keep", "1"], { cwd: dir });
  assert.equal(pruned.status, 0, pruned.stderr);
  assert.deepEqual(
    listed(dir).map((r) => r.id),
    before.slice(2),
  );
  assert.equal(readlinkSync(join(dir, ".troupe", "latest")), join("runs", before[2]!));
  assert.equal(troupe(["runs", "prune", "--older-than", "0s"], { cwd: dir }).status, 0);
  assert.deepEqual(listed(dir), []);
  assert.equal(existsSync(join(dir, ".troupe", "latest")), false);
  const bad = troupe(["runs", "prune", "--older-than", "soon"], { cwd: dir });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--older-than takes an age such as 7d/);
  assert.equal(troupe(["runs", "prune"], { cwd: dir }).status, 2);
  // --results-dir: runs kept elsewhere, the newest at DIR/latest; troupe runs reads them there.
  const elsewhere = troupe(["run", "--results-dir", "out/results", "s/ok"], { cwd: dir });
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  const [kept] = listed(mkdtempSync(join(tmpdir(), "troupe-empty-")), ["--results-dir", join(dir, "out", "results")]);
  assert.equal(kept!.status, "passed");
  assert.equal(readlinkSync(join(dir, "out", "results", "latest")), kept!.id);
  assert.ok(existsSync(join(dir, "out", "results", "latest", "report.html")));
  assert.deepEqual(listed(dir), []);
  // --failed reads the last run where it was kept.
  assert.equal(troupe(["run", "--results-dir", "out/results", "s/bad"], { cwd: dir }).status, 1);
  const again = troupe(["run", "--results-dir", "out/results", "--failed", "-v"], { cwd: dir });
  assert.equal(again.status, 1);
  assert.match(again.stdout, /s\/bad/);
  assert.doesNotMatch(again.stdout, /s\/ok/);
});

test("a run killed with SIGKILL is never pruned while it runs, then marked killed by runs and by the next run", async () => {
  const { dir, fifo } = gatedProject();
  const child = await waitingRun(dir);
  const [going] = listed(dir);
  assert.equal(going!.status, "running");
  const keep = troupe(["runs", "prune", "--keep", "0"], { cwd: dir });
  assert.match(keep.stdout, new RegExp(`^kept ${going!.id}: it is still running$`, "m"));
  assert.ok(existsSync(join(dir, ".troupe", "runs", going!.id)));

  await killOutright(child, fifo);
  const runJson = join(dir, ".troupe", "runs", going!.id, "run.json");
  assert.equal((JSON.parse(readFileSync(runJson, "utf8")) as { status: string }).status, "running");

  const [killed] = listed(dir);
  assert.equal(killed!.status, "killed");
  assert.equal(killed!.killed, true);
  assert.equal((JSON.parse(readFileSync(runJson, "utf8")) as { status: string }).status, "killed");
  assert.match(troupe(["runs", "show"], { cwd: dir }).stdout, /^ {2}killed: its process ended without finishing the run/m);
});

test("the next run says a run was killed, and its run.json says so", async () => {
  const { dir, fifo } = gatedProject();
  const child = await waitingRun(dir);
  await killOutright(child, fifo);
  const [id] = readdirSync(join(dir, ".troupe", "runs"));
  const next = troupe(["run", "s/ok"], { cwd: dir });
  assert.equal(next.status, 0, next.stderr);
  assert.match(
    next.stdout,
    new RegExp(`WARNING: run ${id} was killed before it ended \\(its process is gone\\): its results now say "killed"`),
  );
  const runJson = JSON.parse(readFileSync(join(dir, ".troupe", "runs", id!, "run.json"), "utf8")) as { status: string };
  assert.equal(runJson.status, "killed");
});
