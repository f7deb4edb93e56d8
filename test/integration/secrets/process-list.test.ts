// A job's environment never reaches any process's arguments: `ps -eo args`
// shows those to every user of the machine (and the lab hosts' processes are
// processes of this machine). A job whose environment holds a marker value,
// one literal and one from `$(HOST:...)`, waits while every
// /proc/*/cmdline of the machine is read: the orchestrator, its ssh
// processes, the host's shells and the script's own children, on both
// hosts of a multi-host job.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { lines, privateTmp, project, troupeAsync } from "../cli/helpers.js";
import { exited, outputMatches } from "../docker/helpers.js";

/** Values no process may show; built here so that this test's own command line does not hold them. */
const TAG = `${process.pid}x${Date.now().toString(36)}`;
const LITERAL = ["wts", "literal", TAG].join("-");
const FROM_HOST = ["wts", "host", TAG].join("-");
/** A waiting process the test can find by its arguments and end: the job's event. */
const WAITER = `86399.${process.pid}`;

function secretsProject(): string {
  return project({
    "troupe.yaml": [
      "project: wts-argv",
      "path: /srv/wts-argv",
      // sh rather than bash: a bash script hands itself to bash at once, a sh script is read by the shell it started in.
      "shell: sh",
      "environment:",
      `  API_TOKEN: "$(HOST:echo ${FROM_HOST})"`,
      `  DB_PASSWORD: ${LITERAL}`,
      "backends:",
      "  local:",
      "    systems: [{wts-local: {workers: 2}}]",
      "  lab:",
      "    systems: [{debian-lab: {workers: 2}}]",
      "suites:",
      "  s/:",
      "    summary: s",
      "",
    ].join("\n"),
    "s/wait/task.yaml": [
      "summary: waits with secrets in its environment, on two hosts",
      // Two hosts: a multi-host job's scripts run beside its sync relay (on
      // the local backend, started apart from the host's fork server).
      "hosts:",
      "  one: {}",
      "  two: {}",
      "execute: |",
      '  test -n "$API_TOKEN" && test -n "$DB_PASSWORD"',
      `  sleep ${WAITER} &`,
      "  waiter=$!",
      // Wait until the waiter runs sleep itself (not yet the shell's fork): the test finds it by its arguments.
      `  until [ "$(tr '\\0' ' ' < /proc/$waiter/cmdline)" = "sleep ${WAITER} " ]; do :; done`,
      '  echo "WAITING-$SPREAD_BACKEND"',
      "  wait $waiter || true",
      "",
    ].join("\n"),
  });
}

/** Every process of the machine whose arguments hold one of `values`. */
function processesShowing(values: readonly string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let args: string;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    for (const v of values) if (args.includes(v)) found.push(`${pid}: ${args.split("\0").join(" ").slice(0, 300)}`);
  }
  return found;
}

/** End the job's waiting process (found by its arguments). */
function release(): void {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8") === `sleep\0${WAITER}\0`) process.kill(Number(pid), "SIGTERM");
    } catch {
      // gone meanwhile
    }
  }
}

for (const backend of ["local", "lab"]) {
  test(`on the ${backend} backend, no process of the machine shows the job's environment values while it runs`, async () => {
    const dir = secretsProject();
    const child = troupeAsync(["run", "-vv", "--project", dir, `${backend}:`], { env: { TMPDIR: privateTmp() } });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    try {
      // Both hosts' own line (not the `+ echo WAITING-...` trace before it): both waiters run.
      await outputMatches(child, new RegExp(`(^|: )WAITING-${backend}$[^]*(^|: )WAITING-${backend}$`, "m"));
      const showing = processesShowing([LITERAL, FROM_HOST]);
      release();
      assert.equal(await exited(child), 0, out);
      assert.deepEqual(showing, [], "processes whose arguments hold a value of the job's environment");
      assert.ok(lines(out).some((l) => l.includes(`WAITING-${backend}`)));
    } finally {
      release();
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited(child);
    }
  });
}
