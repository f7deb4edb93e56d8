// One meaning for each flag across `list`, `run`, `spread`, `play` and
// `exec` (docs/running.md#flags): each row of the table is a flag, each
// cell what that command does with it, checked by running the CLI. A
// command that has no use for a flag refuses it, exit 2, and says why.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { project, troupe, type Result } from "./helpers.js";

const LAB = "wtflags";

const dir = project({
  "troupe.yaml": "project: flags\nbackends:\n  local:\n    systems: [localhost]\nsuites:\n  checks/:\n    summary: s\n",
  "checks/a/task.yaml": "summary: a\nexecute: |\n  echo out-of-a\n",
  "checks/b/task.yaml": "summary: b\nexecute: |\n  echo out-of-b\n",
  "scenario.yaml":
    "hosts:\n  - names: node-[1..2]\n    backend: local\nstages:\n  - name: say\n    with_hosts: 'node-(\\d+)'\n    jobs:\n      - run: echo out-of-step\n",
});

before(() => {
  const up = troupe(["lab", "up", "1", "--name", LAB]);
  assert.equal(up.status, 0, up.stderr);
});
after(() => {
  const down = troupe(["lab", "down", "--name", LAB]);
  assert.equal(down.status, 0, down.stderr);
});

type Command = "list" | "run" | "spread" | "play" | "exec";

/** The command line of `cmd` with `flags`, on the fixture (a filter, the scenario, the lab). */
function argv(cmd: Command, flags: readonly string[]): string[] {
  switch (cmd) {
    case "list":
      return ["list", ...flags, "checks/a"];
    case "run":
      return ["run", ...flags, "checks/a"];
    case "spread":
      return ["spread", ...flags, "checks/a"];
    case "play":
      return ["play", ...flags, "scenario.yaml"];
    case "exec":
      return ["exec", ...flags, `lab:${LAB}`, "--", "echo out-of-exec"];
  }
}

function sh(cmd: Command, flags: readonly string[], env: Record<string, string> = {}): Result {
  return troupe(argv(cmd, flags), { cwd: dir, env });
}

const ALL: readonly Command[] = ["list", "run", "spread", "play", "exec"];
const RUNS = ["run", "spread", "play", "exec"] as const;

function refused(r: Result, flag: string): void {
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`error: ${flag.replace(/-/g, "\\-")}( \\(--[a-z]+\\))? means nothing for \`troupe \\w+\`: `));
}

/** What `--json` prints on stdout for each command: JSON of the right shape, and nothing else. */
const JSON_SHAPE: Record<Command, (v: unknown) => void> = {
  list: (v) =>
    assert.deepEqual(
      (v as { name: string }[]).map((j) => j.name),
      ["local:localhost:checks/a"],
    ),
  run: (v) =>
    assert.deepEqual(
      (v as { jobs: { name: string }[] }).jobs.map((j) => j.name),
      ["local:localhost:checks/a"],
    ),
  spread: (v) =>
    assert.deepEqual(
      (v as { jobs: { name: string }[] }).jobs.map((j) => j.name),
      ["local:localhost:checks/a"],
    ),
  play: (v) => assert.equal((v as { status: string }).status, "passed"),
  exec: (v) =>
    assert.deepEqual(
      (v as { host: string; exit: number }[]).map((r) => [r.host, r.exit]),
      [[`${LAB}-1`, 0]],
    ),
};

for (const cmd of ALL) {
  test(`${cmd} --json prints the results as JSON on stdout (a filter after it stays a filter)`, () => {
    const r = sh(cmd, ["--json"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    JSON_SHAPE[cmd](JSON.parse(r.stdout));
  });

  test(`${cmd} --json=FILE writes the same JSON to FILE and prints none`, () => {
    const file = join(dir, `${cmd}-out.json`);
    const r = sh(cmd, [`--json=${file}`]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.throws(() => JSON.parse(r.stdout) as unknown, SyntaxError, "stdout is not the JSON");
    JSON_SHAPE[cmd](JSON.parse(readFileSync(file, "utf8")));
  });

  test(`${cmd} --no-color: no escape sequence even with FORCE_COLOR=1`, () => {
    const r = sh(cmd, ["--no-color"], { NO_COLOR: "", FORCE_COLOR: "1" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /\x1b/);
  });
}

for (const cmd of ["list", "run", "spread"] as const) {
  test(`${cmd} --json out.json: refused with the spelling that writes a file`, () => {
    const r = sh(cmd, ["--json", "out.json"]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--json prints to stdout .* write --json=out\.json/);
    assert.equal(existsSync(join(dir, "out.json")), false);
  });
}

for (const cmd of ["run", "spread", "play", "exec"] as const) {
  test(`${cmd}: FORCE_COLOR=1 colors output that is not a terminal; NO_COLOR=1 does not`, () => {
    assert.match(sh(cmd, [], { NO_COLOR: "", FORCE_COLOR: "1" }).stdout, /\x1b\[/);
    assert.doesNotMatch(sh(cmd, [], { NO_COLOR: "1", FORCE_COLOR: "" }).stdout, /\x1b/);
  });
}

/** What the output says of passing scripts, by command: -q hides it, -v shows it (or more). */
const SAYS: Record<Exclude<Command, "list">, { normal: RegExp; quiet: RegExp; verbose: RegExp }> = {
  run: { normal: /Executing local:localhost:checks\/a/, quiet: /Executing/, verbose: /Output of executing local:localhost:checks\/a/ },
  spread: { normal: /Executing local:localhost:checks\/a/, quiet: /Executing/, verbose: /Output of executing local:localhost:checks\/a/ },
  play: { normal: /node-1: out-of-step/, quiet: /out-of-step/, verbose: /node-1: out-of-step/ },
  exec: { normal: /wtflags-1: out-of-exec/, quiet: /out-of-exec/, verbose: /wtflags-1: exit 0 in \d/ },
};

for (const cmd of RUNS) {
  test(`${cmd} -q shows only failures and the result; -v shows more; -q -v is refused`, () => {
    const normal = sh(cmd, []);
    assert.equal(normal.status, 0, normal.stdout + normal.stderr);
    assert.match(normal.stdout + normal.stderr, SAYS[cmd].normal);
    // Spread's own flags are single-dash and it has no -q: troupe's --quiet works there.
    const q = cmd === "spread" ? "--quiet" : "-q";
    const quiet = sh(cmd, [q]);
    assert.equal(quiet.status, 0, quiet.stdout + quiet.stderr);
    assert.doesNotMatch(quiet.stdout + quiet.stderr, SAYS[cmd].quiet);
    const verbose = sh(cmd, ["-v"]);
    assert.equal(verbose.status, 0, verbose.stdout + verbose.stderr);
    assert.match(verbose.stdout + verbose.stderr, SAYS[cmd].verbose);
    const both = sh(cmd, [q, "-v"]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /-q \(--quiet\) and -v \(--verbose\) cannot go together/);
  });
}

test("-j N: hosts per system for run and spread, commands at once for exec; refused by list and play", () => {
  for (const cmd of ["run", "spread"] as const) {
    const r = troupe([cmd, "-v", ...(cmd === "run" ? ["-j", "2"] : ["--workers", "2"]), "checks/"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Allocated local:localhost \(localhost-2\)/, `${cmd}: a second host for the second job`);
  }
  const one = troupe(["run", "-j", "1", "checks/"], { cwd: dir });
  assert.doesNotMatch(one.stdout, /localhost-2/);
  const exec = sh("exec", ["-j", "1"]);
  assert.equal(exec.status, 0, exec.stderr);
  assert.equal(sh("exec", ["-j", "0"]).status, 2);
  refused(sh("list", ["-j", "2"]), "-j");
  refused(sh("play", ["-j", "2"]), "-j");
});

test("--junit FILE writes JUnit for run, spread and exec; list refuses it", () => {
  for (const cmd of ["run", "spread", "exec"] as const) {
    const file = join(dir, `${cmd}-junit.xml`);
    const r = sh(cmd, ["--junit", file]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(readFileSync(file, "utf8"), /<testsuites[^>]* tests="1" failures="0"/);
  }
  refused(sh("list", ["--junit", join(dir, "l.xml")]), "--junit");
});

test("list refuses -v and -q: it runs no script", () => {
  refused(sh("list", ["-v"]), "-v");
  refused(sh("list", ["-q"]), "-q");
});
