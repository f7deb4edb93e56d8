// Ctrl-C: the first stops scheduling, kills running scripts, runs restore
// scripts and discards hosts; nothing is left behind. On local and lab hosts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, troupeAsync } from "./helpers.js";

function slowProject(marks: string, backend: "local" | "lab"): string {
  const backends =
    backend === "lab"
      ? "backends:\n  lab:\n    systems:\n      - debian-lab:\n          workers: 2\n"
      : "backends:\n  local:\n    systems:\n      - localhost:\n          workers: 2\n";
  // On lab hosts, marks are written on the host and read back over ssh by the
  // restore script into the host's stdout; locally they go straight to $marks.
  return project({
    "troupe.yaml": `project: slow\npath: /srv/slow\n${backends}suites:\n  t/:\n    summary: s\n`,
    "t/a/task.yaml": `summary: a\nexecute: |\n  mkdir -p $(dirname ${marks})\n  echo started >> ${marks}.started\n  sleep 743\nrestore: |\n  mkdir -p $(dirname ${marks})\n  echo restored-a >> ${marks}\n`,
    "t/b/task.yaml": `summary: b\nexecute: |\n  mkdir -p $(dirname ${marks})\n  echo started >> ${marks}.started\n  sleep 743\nrestore: |\n  mkdir -p $(dirname ${marks})\n  echo restored-b >> ${marks}\n`,
    "t/c/task.yaml": `summary: c\npriority: -1\nexecute: echo should not run >> ${marks}.c\n`,
  });
}

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function sleepers(): number[] {
  // Processes running `sleep 743` anywhere on this machine (lab hosts' included).
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8") === "sleep\u0000743\u0000";
      } catch {
        return false;
      }
    })
    .map(Number);
}

interface Interrupted {
  readonly status: number | null;
  readonly stdout: string;
  readonly marks: string;
  readonly pid: number;
  readonly tmp: string;
}

async function interruptRun(backend: "local" | "lab", signal: NodeJS.Signals = "SIGINT"): Promise<Interrupted> {
  const marks = join(project({}), "marks");
  const dir = slowProject(marks, backend);
  const tmp = privateTmp();
  const child = troupeAsync(["run", "--seed", "1"], { cwd: dir, env: { TMPDIR: tmp } });
  let stdout = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stdout += c.toString()));
  if (backend === "local") {
    await waitFor(
      () => existsSync(marks + ".started") && readFileSync(marks + ".started", "utf8").split("\n").length > 2,
      "both jobs to start",
    );
  } else {
    await waitFor(() => (stdout.match(/Executing /g) ?? []).length >= 2, "both jobs to start");
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill(signal);
  const status = child.exitCode ?? (await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code))));
  return { status, stdout, marks, pid: child.pid!, tmp };
}

test("Ctrl-C on the local backend: scripts killed, restores run, exit 130", async () => {
  const before = new Set(sleepers());
  const r = await interruptRun("local");
  assert.equal(r.status, 130, r.stdout);
  assert.deepEqual(readFileSync(r.marks, "utf8").trim().split("\n").sort(), ["restored-a", "restored-b"]);
  assert.equal(existsSync(r.marks + ".c"), false, "a job was scheduled after the interrupt");
  await waitFor(() => sleepers().filter((p) => !before.has(p)).length === 0, "the killed scripts' processes to go");
  assert.match(r.stdout, /Aborted tasks: 3/);
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  test(`${signal} on lab hosts: restores run on the hosts, hosts are discarded, nothing is left, exit 130`, async () => {
    const before = new Set(sleepers());
    const r = await interruptRun("lab", signal);
    assert.equal(r.status, 130, r.stdout);
    assert.match(r.stdout, /Restoring lab:debian-lab:t\/a/);
    assert.match(r.stdout, /Restoring lab:debian-lab:t\/b/);
    assert.match(r.stdout, /Discarding lab:debian-lab/);
    await waitFor(() => sleepers().filter((p) => !before.has(p)).length === 0, "the hosts' processes to go");
    assert.deepEqual(labLeftovers(r.pid, r.tmp), []);
  });
}

test("an interrupt while an adhoc allocate keeps failing ends the retries at once: no attempt after it, exit 130", async () => {
  const attempts = join(project({}), "attempts");
  const dir = project({
    "spread.yaml": [
      "project: retries",
      "path: /srv/retries",
      "backends:",
      "  adhoc:",
      "    allocate: |",
      `      echo attempt >> ${attempts}`,
      '      ERROR "no machine for you"',
      "    discard: 'true'",
      "    systems: [ubuntu-20.04]",
      "suites:",
      "  t/:",
      "    summary: s",
      "",
    ].join("\n"),
    "t/a/task.yaml": "summary: a\nexecute: echo hi\n",
  });
  const child = troupeAsync(["spread"], { cwd: dir });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // The first failed attempt is said; the next would come after the 5 s retry wait.
  await new Promise<void>((resolve) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (/Cannot allocate adhoc:ubuntu-20\.04: no machine for you/.test(out)) {
        child.stdout?.off("data", onData);
        child.stdout?.on("data", (more: Buffer) => (out += more.toString()));
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  });
  child.kill("SIGTERM");
  assert.equal(await exited, 130, out);
  assert.equal(readFileSync(attempts, "utf8"), "attempt\n", "allocate was tried again after the interrupt");
  assert.match(out, /adhoc:ubuntu-20\.04:t\/a \(interrupted\)/);
});
