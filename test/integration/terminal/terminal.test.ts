// The terminal, under a real pseudo-terminal (tmux): a shell troupe opens
// gets the terminal with job control and gives it back; the status block
// shows time and what is left, never freezes in the scrollback, and keeps
// the Ctrl-C hint in view; what hosts print cannot drive the terminal; and
// `play` shows the running stage.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { project } from "../cli/helpers.js";
import { Tmux } from "./tmux.js";
import { processesRunning } from "../../support/processes.js";

/** A status block line, as it would be left behind if it froze in the scrollback. */
const BLOCK = /^troupe: \d+\/\d+ jobs done/m;

/** How many processes run exactly `words`. */
function processes(words: readonly string[]): number {
  return processesRunning(words).length;
}

/** A project of one task that waits until the file `go` appears in the project. */
function waitingProject(extra: Record<string, string> = {}): string {
  return project({
    "troupe.yaml": "project: term\nbackends:\n  local:\n    systems: [localhost]\nsuites:\n  checks/:\n    summary: s\n",
    "checks/w/task.yaml": 'summary: w\nexecute: |\n  echo waiting\n  while [ ! -e "$SPREAD_PATH/go" ]; do sleep 0.1; done\n',
    ...extra,
  });
}

test("--shell hands the terminal over: job control works (&, jobs, Ctrl-Z), nothing is drawn over it, troupe takes it back", async () => {
  const dir = project({
    "troupe.yaml": "project: term\nbackends:\n  local:\n    systems: [localhost]\nsuites:\n  checks/:\n    summary: s\n",
    "checks/a/task.yaml": "summary: a\nexecute: |\n  true\n",
  });
  const t = Tmux.troupe(["run", "--shell", "checks/a"], { cwd: dir });
  try {
    await t.until("the shell's prompt", () => /checks\/a# $/m.test(t.screen()));
    t.keys("sleep 3611 &", "Enter", "jobs", "Enter");
    await t.until("a background job", () => /^\[1\]\+\s+Running\s+sleep 3611 &$/m.test(t.screen()));
    t.keys("sleep 3612", "Enter");
    await t.until("sleep 3612 in the foreground", () => processes(["sleep", "3612"]) === 1);
    t.keys("C-z");
    await t.until("the foreground job stopped by Ctrl-Z", () => /^\[2\]\+\s+Stopped\s+sleep 3612$/m.test(t.screen()));
    assert.doesNotMatch(t.history(), BLOCK, "no status block drawn while the shell has the terminal");
    t.keys("kill -9 %1 %2; wait; exit", "Enter");
    // bash may not have seen the killed job's end yet and refuse once ("There are stopped jobs."): a second exit goes.
    await t.until("the shell to exit or refuse", () => t.exitStatus() !== undefined || /There are stopped jobs/.test(t.screen()));
    if (t.exitStatus() === undefined) t.keys("exit", "Enter");
    assert.equal(await t.exited(), 0, t.history());
    const all = t.history();
    assert.match(all, /Starting shell instead of executing local:localhost:checks\/a on localhost-1\.\.\./);
    assert.match(all, /Continuing\.\.\.\n.*\n?.*Successful tasks: 1/);
    assert.doesNotMatch(all, BLOCK, "no frozen status block in the scrollback");
    assert.equal(processes(["sleep", "3611"]) + processes(["sleep", "3612"]), 0);
  } finally {
    t.kill();
  }
});

test("the status block shows elapsed time and what is left; after Ctrl-C its hint stays in view, and no block is left behind", async () => {
  const dir = waitingProject();
  const t = Tmux.troupe(["run", "checks/w"], { cwd: dir });
  try {
    await t.until("the status block", () => /^troupe: 0\/1 jobs done, 1 busy, 1 left, \d+s elapsed$/m.test(t.screen()));
    t.keys("C-c");
    const hint = "troupe: interrupted: stopping, restoring and discarding hosts (Ctrl-C again to skip restores)";
    assert.equal(await t.exited(), 130, t.history());
    const all = t.history();
    assert.equal(all.split(hint).length, 2, `the hint, once:\n${all}`);
    assert.doesNotMatch(all, BLOCK, `no frozen status block in the scrollback:\n${all}`);
    assert.match(all, /Aborted tasks: 1\n {4}- local:localhost:checks\/w \(/);
  } finally {
    t.kill();
  }
});

test("-vv: what a host prints cannot set the title, write the clipboard or clear the screen; it is shown as ^[", async () => {
  const dir = project({
    "troupe.yaml": "project: term\nbackends:\n  local:\n    systems: [localhost]\nsuites:\n  checks/:\n    summary: s\n",
    "checks/evil/task.yaml": "summary: evil\nexecute: |\n  printf 'a\\033]0;PWNED\\007b\\033]52;c;aGk=\\007c\\033[2J\\033[Hd\\rX\\n'\n",
  });
  const t = Tmux.troupe(["run", "-vv", "checks/evil"], { cwd: dir });
  try {
    const title = t.title();
    assert.equal(await t.exited(), 0, t.history());
    assert.equal(t.title(), title);
    const all = t.history();
    assert.match(all, /^a\^\[\]0;PWNED\^Gb\^\[\]52;c;aGk=\^Gc\^\[\[2J\^\[\[Hd\^MX$/m);
    assert.match(all, /Executing local:localhost:checks\/evil/, "nothing was cleared");
  } finally {
    t.kill();
  }
});

test("play shows the running stage's progress below its lines, and erases it at the end", async () => {
  const dir = project({
    "s.yaml": [
      "hosts:",
      "  - names: node-[1..2]",
      "    backend: local",
      "stages:",
      "  - name: wait for go",
      "    with_hosts: 'node-(\\d+)'",
      "    jobs:",
      "      - name: waiter",
      "        run: |",
      '          while [ ! -e "GO_FILE" ]; do sleep 0.1; done',
      "",
    ].join("\n"),
  });
  const go = join(dir, "go");
  writeFileSync(join(dir, "s.yaml"), readFileSync(join(dir, "s.yaml"), "utf8").replace("GO_FILE", go));
  const t = Tmux.troupe(["play", "s.yaml"], { cwd: dir });
  try {
    await t.until("the stage's progress", () => /^troupe: stage 1\/1 "wait for go": 2 running, 0 done; \d+s/m.test(t.screen()));
    assert.match(t.screen(), /^ {2}node-1 {2}waiter {2}\d+s$/m);
    writeFileSync(go, "");
    assert.equal(await t.exited(), 0, t.history());
    assert.doesNotMatch(t.history(), /^troupe: stage/m);
    assert.match(t.history(), /Scenario passed/);
  } finally {
    t.kill();
  }
});
