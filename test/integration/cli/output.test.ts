// Issue 12: a script that prints without bound must cost linear time and
// bounded memory. The line splitter re-joined the partial line on every
// chunk (one 40 MB line took 25 s; 200 MB ran past 10 minutes at 3 GB) and
// hooks kept their whole output in memory. Now the log gets every byte, the
// terminal and run.json get the end and the log's path, and troupe's memory
// stays under 300 MB whatever the script prints.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { project, TROUPE } from "./helpers.js";

const MB = 1_000_000;
const PROJECT = "project: big\nbackends:\n  local:\n    systems: [sys]\nsuites:\n  s/:\n    summary: s\n";

/** `troupe run` under GNU time: its result and the troupe process's peak memory (KiB). */
function runMeasured(dir: string): { status: number | null; stdout: string; stderr: string; peakKiB: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "troupe-peak-rss %M", process.execPath, TROUPE, "run"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * MB,
  });
  const m = /troupe-peak-rss (\d+)/.exec(r.stderr);
  assert.ok(m, `GNU time reported nothing: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, peakKiB: Number(m[1]) };
}

for (const [what, script, bytes] of [
  ["one 200 MB line", "head -c 200000000 /dev/zero | tr '\\0' x; echo; exit 3", 200 * MB + 1],
  ["200 MB in 2 million lines", "yes \"$(head -c 99 /dev/zero | tr '\\0' y)\" | head -n 2000000; exit 3", 200 * MB],
] as const) {
  test(`${what}: the log holds every byte, the failure shows the end and names the log, troupe stays under 300 MB`, () => {
    const dir = project({ "troupe.yaml": PROJECT, "s/t/task.yaml": `summary: prints a lot\nexecute: |\n  ${script}\n` });
    const r = runMeasured(dir);
    assert.equal(r.status, 1, r.stderr.slice(-2000));
    assert.ok(r.peakKiB < 300 * 1024, `peak RSS ${Math.round(r.peakKiB / 1024)} MiB`);
    const log = /all of it is in (\S+\.log)/.exec(r.stdout);
    assert.ok(log, `the failure names the log: ${r.stdout.slice(-3000)}`);
    const size = statSync(log[1]!).size;
    assert.ok(size >= bytes && size < bytes + 1000, `the log holds the output and the script's trace: ${size} bytes`);
    assert.ok(r.stdout.length < 200_000, `the terminal gets the end only (${r.stdout.length} characters)`);
    const runJson = JSON.parse(readFileSync(join(log[1]!, "..", "..", "run.json"), "utf8")) as {
      jobs: { hooks: { phase: string; output?: string; logPath?: string }[] }[];
    };
    const execute = runJson.jobs[0]!.hooks.find((h) => h.phase === "execute")!;
    assert.ok((execute.output ?? "").length <= 70 * 1024, "run.json keeps the end");
    assert.match(execute.output ?? "", /^\(\.\.\. output cut \.\.\.\)/);
    assert.equal(join(log[1]!, "..", "..", execute.logPath!), log[1], "run.json names the same log");
  });
}
