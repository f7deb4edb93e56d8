// `troupe play` under GitHub Actions: an `::error` annotation per failed
// step at its job in the scenario file (stage / job / host / item and the
// output's end), and a step summary of stages and steps, failures first.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { project, troupe } from "./helpers.js";

const SCENARIO = [
  "hosts:",
  "  - names: node-[1..2]",
  "stages:",
  "  - name: build",
  "    with_hosts: 'node-\\d'",
  "    jobs:",
  "      - name: compile",
  "        run: echo built on $TROUPE_HOST",
  "  - name: check",
  "    with_hosts: node-1",
  "    jobs:",
  "      - name: lint",
  "        run: 'true'",
  "      - name: verify",
  "        with_items: [a, b]",
  "        run: |",
  '          echo "checked {{ item }}: 100%, fine"',
  '          test "{{ item }}" = a',
  "",
].join("\n");

test("GITHUB_ACTIONS=true: play annotates the failed step at its job in the scenario file and sums up stages and steps, failures first", () => {
  const dir = project({ "s.yaml": SCENARIO });
  const summary = join(dir, "summary.md");
  writeFileSync(summary, "earlier step\n");
  const r = troupe(["play", "s.yaml"], {
    cwd: dir,
    env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir },
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const commands = r.stdout.split("\n").filter((l) => l.startsWith("::"));
  assert.deepEqual(commands, [
    "::error file=s.yaml,line=14,col=9,title=troupe%3A verify failed on node-1::" +
      'stage 2 "check", job "verify", host node-1, item b: exit status 1%0A' +
      "checked b: 100%25, fine",
  ]);
  const md = readFileSync(summary, "utf8");
  assert.ok(md.startsWith("earlier step\n### troupe play "), "appended, not overwritten");
  const stages = md.split("\n").filter((l) => /^\| (❌|✅) \w+ \| \d\/2 /.test(l));
  assert.deepEqual(
    stages.map((l) => l.split(" | ").slice(0, 2).join(" | ")),
    ["| ❌ failed | 2/2 `check`", "| ✅ passed | 1/2 `build`"],
  );
  const steps = md.split("\n").filter((l) => /^\| (❌|✅) \w+ \| \d `/.test(l));
  assert.deepEqual(
    steps.map((l) => l.split(" | ").slice(0, 5).join(" | ")),
    [
      "| ❌ failed | 2 `check` | `verify` | node-1 | `b`",
      "| ✅ passed | 1 `build` | `compile` | node-1 | ",
      "| ✅ passed | 1 `build` | `compile` | node-2 | ",
      "| ✅ passed | 2 `check` | `lint` | node-1 | ",
      "| ✅ passed | 2 `check` | `verify` | node-1 | `a`",
    ],
  );
});

test("play without GITHUB_ACTIONS prints no workflow command", () => {
  const dir = project({ "s.yaml": SCENARIO });
  const r = troupe(["play", "s.yaml"], { cwd: dir, env: { GITHUB_ACTIONS: "" } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /^::/m);
});
