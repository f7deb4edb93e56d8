// `log:` in scenarios, through `troupe play` on local and lab hosts: with
// `keep` a step's or service's output stays on its host until it ends, then
// is fetched into the run's folder whole; the terminal, the host log and
// scenario.json get one pointer and none of the lines. `summary` adds the
// last lines. Mistakes are reported at file:line:col.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { labLeftovers, privateTmp, project, REPO, troupe, troupeAsync } from "./helpers.js";

interface Kept {
  mode: string;
  file?: string;
  lines: number;
  bytes: number;
  hostFile: string;
}
interface Json {
  status: string;
  stages: { steps: { job: string; log?: Kept; output?: string }[] }[];
  services: { service: string; log?: Kept }[];
}

function runDir(dir: string): string {
  const runs = join(dir, ".troupe", "runs");
  return join(
    runs,
    readdirSync(runs).find((n) => /^\d{8}-/.test(n))!,
  );
}

/** Lines of a file, its first and its last, read as a stream (the file may be 100 MB). */
async function lineStats(file: string): Promise<{ lines: number; first: string; last: string }> {
  let lines = 0;
  let first = "";
  let current = "";
  let last = "";
  for await (const chunk of createReadStream(file, { encoding: "utf8" })) {
    let start = 0;
    for (let nl = (chunk as string).indexOf("\n"); nl >= 0; nl = (chunk as string).indexOf("\n", start)) {
      const line = current + (chunk as string).slice(start, nl);
      current = "";
      if (lines === 0) first = line;
      last = line;
      lines++;
      start = nl + 1;
    }
    current += (chunk as string).slice(start);
  }
  return { lines, first, last };
}

test("log: keep on a service printing 100 MB: nothing of it on the terminal, the host log or scenario.json; the fetched file has every line", async () => {
  const n = 8_500_000;
  const dir = project({
    "s.yaml": `hosts:
  - names: n1
stages:
  - name: start
    jobs:
      - name: chatty
        log: keep
        service: |
          seq -f 'svc-line-%.0f' 1 ${n}
          touch written
          exec sleep 600
  - name: until it has written all
    jobs:
      - name: wait
        timeout: 5m
        run: while [ ! -e written ]; do sleep 0.1; done; echo all written
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /svc-line/);
  const run = runDir(dir);
  const expected = join(run, "logs", "n1", "1-chatty.log");
  assert.match(r.stdout, new RegExp(`n1: service chatty: log kept on the host \\(${n} lines, [\\d.]+ MiB; all in ${expected}\\)`));
  assert.match(r.stdout, /n1: all written/);
  assert.doesNotMatch(readFileSync(join(run, "logs", "n1.log"), "utf8"), /svc-line/);
  const jsonText = readFileSync(join(run, "scenario.json"), "utf8");
  assert.doesNotMatch(jsonText, /svc-line/);
  const j = JSON.parse(jsonText) as Json;
  const log = j.services.find((s) => s.service === "chatty")?.log;
  assert.equal(log?.mode, "keep");
  assert.equal(log?.file, "logs/n1/1-chatty.log");
  assert.equal(log?.lines, n);
  assert.ok((log?.bytes ?? 0) > 100_000_000, String(log?.bytes));
  assert.deepEqual(await lineStats(expected), { lines: n, first: "svc-line-1", last: `svc-line-${n}` });
});

test("log: summary shows the last log_lines lines and the count; the file has all; scenario, stage and job levels", () => {
  const dir = project({
    "s.yaml": `hosts:
  - names: n1
log: keep
stages:
  - name: kept by default
    jobs:
      - name: quiet
        run: seq -f 'kept-%.0f' 1 300
      - name: summed
        log: summary
        log_lines: 4
        run: seq -f 'sum-%.0f' 1 1000; echo 'on stderr' >&2; exit 3
        ignore_failure: true
  - name: streamed
    log: stream
    jobs:
      - name: loud
        run: echo streamed line
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const run = runDir(dir);
  assert.doesNotMatch(r.stdout, /kept-\d/);
  assert.match(
    r.stdout,
    new RegExp(`n1: quiet: log kept on the host \\(300 lines, [\\d.]+ KiB; all in ${join(run, "logs/n1/1-quiet.log")}\\)`),
  );
  // The last 4 lines (stderr's too: one log), then where the rest is; nothing before them.
  assert.match(
    r.stdout,
    new RegExp(
      "n1: sum-998\nn1: sum-999\nn1: sum-1000\nn1: on stderr\n.*n1: summed: log kept on the host " +
        `\\(1001 lines, [\\d.]+ KiB; the last 4 lines above; all in ${join(run, "logs/n1/1-summed.log")}\\)\n` +
        ".*n1: summed: failed, ignored: exit status 3",
    ),
  );
  assert.doesNotMatch(r.stdout, /sum-997/);
  assert.match(r.stdout, /^n1: streamed line$/m);
  assert.equal(readFileSync(join(run, "logs/n1/1-quiet.log"), "utf8").split("\n").length, 301);
  assert.match(readFileSync(join(run, "logs/n1/1-summed.log"), "utf8"), /^sum-1\n(sum-\d+\n){999}on stderr\n$/);
  const j = JSON.parse(readFileSync(join(run, "scenario.json"), "utf8")) as Json;
  const steps = j.stages.flatMap((s) => s.steps);
  const summed = steps.find((s) => s.job === "summed")!;
  assert.equal(summed.log?.mode, "summary");
  assert.equal(summed.log?.lines, 1001);
  // What reports keep of a failed summary step: its summary.
  assert.equal(summed.output, "sum-998\nsum-999\nsum-1000\non stderr");
  assert.equal(steps.find((s) => s.job === "loud")?.log, undefined);
});

test("lab hosts: a kept step log and a kept service log come back over SSH; nothing is left", () => {
  const tmp = privateTmp();
  const dir = project({
    "s.yaml": `hosts:
  - names: node-[1..2]
    backend: lab
stages:
  - name: work
    log: summary
    log_lines: 2
    jobs:
      - name: svc
        service: seq -f 'svc-%.0f' 1 5000; exec sleep 600
      - name: build
        run: seq -f "build-{{ host.name }}-%.0f" 1 20000
`,
  });
  const r = troupe(["play", "s.yaml"], { cwd: dir, env: { TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const run = runDir(dir);
  for (const h of ["node-1", "node-2"]) {
    assert.match(r.stdout, new RegExp(`^${h}: build-${h}-19999\n${h}: build-${h}-20000$`, "m"));
    assert.doesNotMatch(r.stdout, new RegExp(`build-${h}-19998\\b`));
    assert.match(r.stdout, new RegExp(`${h}: build: log kept on the host \\(20000 lines, [\\d.]+ KiB; the last 2 lines above`));
    assert.match(r.stdout, new RegExp(`${h}: service svc: log kept on the host \\(5000 lines`));
    const build = readFileSync(join(run, "logs", h, "1-build.log"), "utf8");
    assert.equal(build.split("\n").length, 20001);
    assert.ok(build.startsWith(`build-${h}-1\n`));
    assert.equal(readFileSync(join(run, "logs", h, "1-svc.log"), "utf8").split("\n").length, 5001);
  }
  assert.deepEqual(labLeftovers(r.pid, tmp), []);
});

test("log mistakes are reported at file:line:col before anything runs; exit 2", () => {
  const dir = project({
    "bad-value.yaml": `hosts: [n1]
stages:
  - name: s
    jobs:
      - run: echo hi
        log: quiet
`,
    "bad-lines.yaml": `hosts: [n1]
stages:
  - name: s
    log: keep
    log_lines: 5
    jobs:
      - run: echo hi
`,
    "bad-copy.yaml": `hosts: [n1]
stages:
  - name: s
    jobs:
      - copy: {from: bad-copy.yaml, to: x}
        log: keep
`,
    "bad-update.yaml": `hosts: [n1]
log: summary
stages:
  - name: s
    jobs:
      - run: echo 42
        vars_updates:
          answer: "{{ res.stdout | int }}"
`,
  });
  const update = troupe(["play", "bad-update.yaml"], { cwd: dir });
  assert.equal(update.status, 2, update.stdout + update.stderr);
  assert.match(
    update.stderr,
    /bad-update\.yaml:8:19: stages\[0\]\.jobs\[0\]\.vars_updates\.answer: vars_updates reads res\.stdout or res\.stderr, which are empty with log: summary .*give this job log: stream/,
  );
  const value = troupe(["play", "bad-value.yaml"], { cwd: dir });
  assert.equal(value.status, 2, value.stdout + value.stderr);
  assert.match(value.stderr, /bad-value\.yaml:6:14: stages\[0\]\.jobs\[0\]\.log: .*"stream".*"keep".*"summary"/);
  const lines = troupe(["play", "bad-lines.yaml"], { cwd: dir });
  assert.equal(lines.status, 2, lines.stdout + lines.stderr);
  assert.match(
    lines.stderr,
    /bad-lines\.yaml:5:5: stages\[0\]\.log_lines: log_lines: only means something with log: summary \(here log: keep\)/,
  );
  const copy = troupe(["play", "bad-copy.yaml"], { cwd: dir });
  assert.equal(copy.status, 2, copy.stdout + copy.stderr);
  assert.match(copy.stderr, /bad-copy\.yaml:6:9: stages\[0\]\.jobs\[0\]\.log: log: only means something for run: and service: jobs/);
});

test("examples/scenarios/logs.yaml runs as docs/scenarios.md shows (as local processes)", () => {
  const tmp = privateTmp();
  const example = join(REPO, "examples", "scenarios", "logs.yaml");
  const r = troupe(["play", "--backend-as", "lab=local", example, `--json=${join(tmp, "logs.json")}`], { env: { TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /tick \d+ from/);
  for (const h of ["node-1", "node-2"]) {
    assert.match(
      r.stdout,
      new RegExp(`^${h}: cc -c unit197\\.c\n(${h}: .*\n){3}${h}: linked app\n.*${h}: compile: log kept on the host \\(201 lines`, "m"),
    );
    assert.match(r.stdout, new RegExp(`${h}: service chatty: log kept on the host \\(\\d+ lines, `));
    assert.match(r.stdout, new RegExp(`^${h}: done on ${h}$`, "m"));
  }
  const j = JSON.parse(readFileSync(join(tmp, "logs.json"), "utf8")) as Json & { runId: string };
  const chatty = j.services.find((s) => s.service === "chatty")!.log!;
  const file = join(REPO, "examples", "scenarios", ".troupe", "runs", j.runId, chatty.file!);
  assert.match(readFileSync(file, "utf8"), /^tick 1 from node-\d\ntick 2 from/);
});

/** Processes on this machine whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ");
      if (args.includes(marker)) out.push(`${p}: ${args}`);
    } catch {
      // gone
    }
  }
  return out;
}

test("Ctrl-C with a kept service log: the service is stopped, its log said not fetched, nothing left, exit 130", async () => {
  const m = String(randomInt(100_000, 999_999));
  const dir = project({
    "s.yaml": `hosts:
  - names: n1
stages:
  - name: start
    jobs:
      - name: kept
        log: keep
        service: echo kept-line; exec sleep ${m}1
  - name: long
    jobs:
      - run: echo started; exec sleep ${m}2
`,
  });
  const child = troupeAsync(["play", "s.yaml"], { cwd: dir });
  let out = "";
  const started = new Promise<void>((resolve) => {
    const on = (c: Buffer): void => {
      out += c.toString();
      if (/^n1: started$/m.test(out)) resolve();
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
  });
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  await Promise.race([started, exit]);
  child.kill("SIGINT");
  assert.equal(await exit, 130, out);
  assert.match(
    out,
    /WARNING: n1: service kept: its log was not fetched from \S+\/\.troupe\/logs\/1-kept-\w+\.log on the host: the run was interrupted/,
  );
  assert.doesNotMatch(out, /kept-line/);
  assert.deepEqual(processesWith(`sleep ${m}`), []);
});
