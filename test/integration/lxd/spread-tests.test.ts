// The equivalent of Spread's own tests/lxd (canonical/spread, tests/lxd):
// its project as it is (five ubuntu systems named the Spread way, no image
// keys, path /home/test) run with `spread -vv -reuse -resend`, checked as
// its task checks it: every system's job named in the output, and its
// `WORKS <system>` line. The systems' images are the test image under the
// aliases the backend looks up for those names (no image server here).
// Run twice, as the task does when run again: the second takes the kept
// containers back; then -discard.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { project, troupe } from "../cli/helpers.js";
import { aliasImage } from "./image.js";
import { exists } from "./helpers.js";

const SYSTEMS = ["ubuntu-16.04", "ubuntu-18.04", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04"];

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function spreadChecks(out: string): void {
  for (const system of SYSTEMS) {
    assert.ok(out.includes(`lxd:${system}:checks/main`), `no lxd:${system}:checks/main in:\n${out}`);
    assert.match(out, new RegExp(`^WORKS ${system.replace(/\./g, "\\.")}$`, "m"));
  }
}

test("Spread's tests/lxd: five ubuntu systems, -vv -reuse -resend, twice, then -discard", () => {
  for (const s of SYSTEMS) aliasImage(s);
  const dir = project({
    "spread.yaml": [
      "project: spread",
      "",
      "backends:",
      "    lxd:",
      "        systems:",
      ...SYSTEMS.map((s) => `            - ${s}`),
      "",
      "path: /home/test",
      "",
      "suites:",
      "    checks/:",
      "        summary: Verification tasks.",
      "",
    ].join("\n"),
    "checks/main/task.yaml": "summary: Ensure it works.\n\nexecute: |\n    echo WORKS $SPREAD_SYSTEM\n",
  });
  made.push(dir);
  let names: string[] = [];
  try {
    const first = troupe(["spread", "-vv", "-reuse", "-resend"], { cwd: dir });
    names = [...first.stdout.matchAll(/Allocated lxd:\S+ \((troupe-\d+-ubuntu-[\d-]+)\)/g)].map((m) => m[1]!);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    spreadChecks(first.stdout + first.stderr);
    assert.equal(names.length, 5, first.stdout);

    const second = troupe(["spread", "-vv", "-reuse", "-resend"], { cwd: dir });
    assert.equal(second.status, 0, second.stdout + second.stderr);
    spreadChecks(second.stdout + second.stderr);
    const reused = [...second.stdout.matchAll(/Reusing lxd:\S+ \((troupe-\d+-ubuntu-[\d-]+)\)/g)].map((m) => m[1]!);
    assert.deepEqual(reused.sort(), [...names].sort());
    assert.match(second.stdout, /Removing project data from/);
  } finally {
    const d = troupe(["spread", "-discard"], { cwd: dir });
    assert.equal(d.status, 0, d.stdout + d.stderr);
  }
  for (const n of names) assert.equal(exists(n), false, `${n} is still there after -discard`);
});
