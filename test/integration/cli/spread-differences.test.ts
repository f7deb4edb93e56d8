// Behaviours of a Spread project that troupe matches since they were found
// side by side with the real Spread (test/spread-suite/side-by-side.sh):
// ERROR prints only its message; FATAL is not defined in a project's
// scripts; a new machine whose `path` is not empty is discarded and another
// allocated; an unknown key's warning names the nearest known key.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lines, project as newProject, troupe } from "./helpers.js";

const made: string[] = [];
const project = (files: Readonly<Record<string, string>>): string => {
  const d = newProject(files);
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const LOCAL =
  "project: sd-local\npath: /srv/sd-local\nbackends:\n  local:\n    systems:\n      - ubuntu-24.04\n" +
  "suites:\n  checks/:\n    summary: s\n    prepare-eahc: echo never\n";

test("ERROR prints only its message, FATAL is no helper of a project's scripts, an unknown key names the nearest one", () => {
  const dir = project({
    "spread.yaml": LOCAL,
    "checks/err/task.yaml": 'summary: e\nexecute: |\n  echo printed-before\n  ERROR "it broke here"\n',
    "checks/fatal/task.yaml": 'summary: f\nexecute: |\n  FATAL "not a helper here"\n',
    "checks/ok/task.yaml": "summary: o\nexecute: echo fine\n",
  });
  const r = troupe(["spread", "-seed", "1"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const out = lines(r.stdout);
  assert.ok(out.includes("Error executing local:ubuntu-24.04:checks/err (ubuntu-24.04-1) : it broke here"), r.stdout);
  assert.doesNotMatch(r.stdout, /printed-before/, "the output is not shown, as in Spread");
  // Spread defines FATAL for adhoc scripts only: in a task it is a command that is not found, a failure like any other.
  assert.match(r.stdout, /FATAL: command not found/);
  assert.doesNotMatch(r.stdout, /broken/);
  assert.ok(out.includes("Successful tasks: 1"), r.stdout);
  assert.ok(out.includes("Aborted tasks: 0"), r.stdout);
  assert.match(r.stderr, /spread\.yaml:10:5: suites\.checks\/\.prepare-eahc: unknown key 'prepare-eahc' .*did you mean 'prepare-each'\?/);
  // The output is still in the hook's log.
  const log = execFileSync("sh", ["-c", "cat .troupe/latest/*/*execute*.log 2>/dev/null || grep -rl printed-before .troupe/latest/"], {
    cwd: dir,
    encoding: "utf8",
  });
  assert.match(log, /printed-before/);
});

test("a new machine whose path is not empty is discarded and another allocated, as Spread does", () => {
  const lab = `sd${process.pid}`;
  const up = troupe(["lab", "up", "2", "--name", lab]);
  assert.equal(up.status, 0, up.stderr);
  try {
    const st = JSON.parse(troupe(["lab", "status", "--json"]).stdout) as {
      identityFile: string;
      hosts: { name: string; address: string; lab?: string }[];
    };
    const [full, empty] = st.hosts.filter((h) => h.lab === lab).sort((a, b) => a.name.localeCompare(b.name));
    assert.ok(full && empty);
    execFileSync("ssh", ["-F", "/run/troupe-lab/ssh_config", full.name, "mkdir -p /srv/sd && touch /srv/sd/left-over"]);
    const dir = project({
      "spread.yaml":
        "project: sd-full\npath: /srv/sd\nbackends:\n  pool:\n    type: adhoc\n" +
        "    allocate: |\n" +
        "      n=$(cat next 2>/dev/null || echo 1); echo $((n + 1)) > next\n" +
        `      if [ "$n" = 1 ]; then ADDRESS ${full.address}; else ADDRESS ${empty.address}; fi\n` +
        '    discard: echo "$SPREAD_SYSTEM_ADDRESS" >> discarded.log\n' +
        `    systems:\n      - debian-12:\n          identity-file: ${st.identityFile}\n` +
        "suites:\n  checks/:\n    summary: s\n",
      "checks/where/task.yaml": "summary: w\nexecute: echo ON $(hostname) $(ls $SPREAD_PATH | tr '\\n' ' ')\n",
    });
    const r = troupe(["spread", "-vv"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`remote directory /srv/sd on debian-12-1 is not empty`));
    assert.match(r.stdout, new RegExp(`^ON ${empty.name} checks spread\\.yaml$`, "m"), "the job ran on the second machine");
    assert.equal(readFileSync(join(dir, "discarded.log"), "utf8"), `${full.address}\n${empty.address}\n`);
    const left = execFileSync("ssh", ["-F", "/run/troupe-lab/ssh_config", full.name, "ls /srv/sd"], { encoding: "utf8" });
    assert.equal(left, "left-over\n", "nothing was sent over what was there");
  } finally {
    troupe(["lab", "down", "--name", lab]);
  }
});
