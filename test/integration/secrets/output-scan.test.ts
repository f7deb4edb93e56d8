// The whole output of a run, scanned for its secrets: a value marked with
// `secrets:` and a `$(HOST:...)` value assigned to a name the naming rule
// marks, printed by a failing task (and traced by `set -x` at -vv), with
// --junit, --json and --artifacts. Neither value may be anywhere troupe
// wrote: its terminal output, the results folder (run.json, the logs, the
// HTML report), the JUnit and JSON copies, the artifacts folder.
//
// And the adhoc backend's session password, which a failing `allocate`
// script's trace prints (Spread's `set -x`).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { project, troupe, troupeAsync } from "../cli/helpers.js";
import { exited, outputMatches } from "../docker/helpers.js";

const TAG = `${process.pid}x${Date.now().toString(36)}`;
const MARKED = ["wts", "marked", TAG].join("-");
const FROM_HOST = ["wts", "host", TAG].join("-");

/** Every file under `dir`, with where `values` occur in it. */
function filesShowing(dir: string, values: readonly string[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const text = readFileSync(path, "latin1");
    for (const v of values) if (text.includes(v)) found.push(`${path} holds ${v === MARKED ? "the marked value" : "the $(HOST:) value"}`);
  }
  return found;
}

test("a failing run at -vv writes neither a marked secret nor a $(HOST:...) secret anywhere", () => {
  const dir = project({
    "troupe.yaml": [
      "project: wts-scan",
      // DEPLOY_CODE is not secret by its name: it is marked.
      "secrets: [DEPLOY_CODE]",
      "environment:",
      `  DEPLOY_CODE: ${MARKED}`,
      `  API_TOKEN: "$(HOST:echo ${FROM_HOST})"`,
      "backends:",
      "  local:",
      "    systems: [wts-scan]",
      "suites:",
      "  s/:",
      "    summary: s",
      "",
    ].join("\n"),
    "s/leak/task.yaml": [
      "summary: prints its secrets and fails",
      "artifacts: [out.txt]",
      "execute: |",
      '  echo "marked=$DEPLOY_CODE and host=$API_TOKEN"',
      // One write split in two: the runner finds a secret across chunks.
      '  printf \'%s\' "${API_TOKEN%??????}"; printf \'%s\\n\' "${API_TOKEN#"${API_TOKEN%??????}"}"',
      // Artifacts are the task's own files, fetched as they are: this one holds no secret.
      "  echo artifact > out.txt",
      '  echo "$DEPLOY_CODE" >&2',
      '  ERROR "failed with $API_TOKEN"',
      "",
    ].join("\n"),
  });
  const results = join(dir, "out");
  const r = troupe([
    "run",
    "-vv",
    "--project",
    dir,
    "--junit",
    join(results, "junit.xml"),
    `--json=${join(results, "run.json")}`,
    "--artifacts",
    join(results, "artifacts"),
  ]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const terminal = r.stdout + r.stderr;
  // The task did print them: masked, in the trace and in its output.
  assert.match(terminal, /marked=\*\*\* and host=\*\*\*/);
  assert.match(terminal, /\+ echo 'marked=\*\*\* and host=\*\*\*'|\+ echo "?marked=\*\*\*/);
  assert.equal(terminal.includes(MARKED), false, "the terminal shows the marked value");
  assert.equal(terminal.includes(FROM_HOST), false, "the terminal shows the $(HOST:) value");
  const written = [...filesShowing(join(dir, ".troupe"), [MARKED, FROM_HOST]), ...filesShowing(results, [MARKED, FROM_HOST])];
  assert.deepEqual(written, []);
  // What was scanned: the results folder with its logs and report, and the copies.
  const runs = readdirSync(join(dir, ".troupe", "runs"));
  assert.equal(runs.length, 1);
  const runDir = join(dir, ".troupe", "runs", runs[0]!);
  assert.ok(readdirSync(runDir).includes("run.json"));
  assert.ok(readdirSync(runDir).includes("report.html"));
  assert.match(readFileSync(join(results, "junit.xml"), "utf8"), /\*\*\*/);
});

test("the adhoc session password is in no trace, also when allocate fails", async () => {
  const password = ["wts", "pass", TAG].join("-");
  const dir = project({
    "spread.yaml": [
      "project: wts-adhoc",
      "path: /tmp/wts-adhoc",
      "backends:",
      "  adhoc:",
      "    allocate: |",
      '      true "session password: $SPREAD_PASSWORD"',
      "      exit 1",
      "    systems: [wts-adhoc]",
      "suites:",
      "  s/:",
      "    summary: s",
      "",
    ].join("\n"),
    "s/t/task.yaml": "summary: t\nexecute: true\n",
  });
  for (const verbose of [[], ["-vv"]]) {
    // allocate fails (exit 1) and would be tried again for minutes: the warning that shows its output is enough.
    // The task's own prepare never runs; no process of it is left to kill.
    const child = troupeAsync(["spread", ...verbose, `-pass=${password}`], { cwd: dir });
    let terminal = "";
    child.stdout?.on("data", (c: Buffer) => (terminal += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (terminal += c.toString()));
    try {
      await outputMatches(child, /Cannot allocate adhoc:wts-adhoc: exit status 1[^]*session password: /);
    } finally {
      // Nothing is allocated, and an interrupt would wait for the retries to give up (minutes).
      child.kill("SIGKILL");
      await exited(child);
    }
    assert.match(terminal, /\+ true 'session password: \*\*\*'/, terminal);
    assert.equal(terminal.includes(password), false, terminal);
    assert.deepEqual(filesShowing(join(dir, ".troupe"), [password]), []);
  }
});
