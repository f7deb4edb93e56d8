// `troupe exec`'s results: --timeout (status 124, the command killed on the
// host), --json (one result per host), --output-dir (every byte, a file per
// host), -N (no prefix), --junit, and host output shown inert on the
// terminal. On lab hosts: real sshd, real processes.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { project, troupe } from "./helpers.js";
import { processesRunning } from "../../support/processes.js";

const LAB = "wtexr";
const H1 = `${LAB}-1`;
const H2 = `${LAB}-2`;

before(() => {
  const up = troupe(["lab", "up", "2", "--name", LAB]);
  assert.equal(up.status, 0, up.stderr);
});
after(() => {
  const down = troupe(["lab", "down", "--name", LAB]);
  assert.equal(down.status, 0, down.stderr);
});

/** How many processes run exactly `words`. */
function processes(words: readonly string[]): number {
  return processesRunning(words).length;
}

interface HostJson {
  host: string;
  exit: number;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  output: string;
  truncated: boolean;
  error: string | null;
  file?: string;
}

test("--timeout kills the command where it runs too long: that host's status is 124, the others' are theirs", () => {
  // One host finishes, the other would sleep for an hour.
  const r = troupe([
    "exec",
    "--json",
    "--timeout",
    "2s",
    `lab:${LAB}`,
    "--",
    `echo hi; [ "$(hostname)" = ${H2} ] && exec sleep 3607; exit 3`,
  ]);
  assert.equal(r.status, 124, r.stderr);
  const results = JSON.parse(r.stdout) as HostJson[];
  assert.deepEqual(
    results.map((x) => [x.host, x.exit, x.timedOut, x.output]),
    [
      [H1, 3, false, "hi\n"],
      [H2, 124, true, "hi\n"],
    ],
  );
  assert.ok(results[1]!.durationMs >= 2000, String(results[1]!.durationMs));
  assert.match(r.stderr, new RegExp(`2 of 2 host\\(s\\) failed: ${LAB}-\\[1-2\\] \\(timed out: ${H2}\\)`));
  assert.equal(processes(["sleep", "3607"]), 0, "the timed-out command is gone from the host");
  assert.equal(troupe(["exec", "--timeout", "soon", `lab:${LAB}`, "--", "true"]).status, 2);
});

test("--output-dir writes every byte each host printed to DIR/<host>.log; -N prints lines without the host", () => {
  const dir = join(project({}), "out");
  const r = troupe(["exec", "-N", "--output-dir", dir, `lab:${LAB}`, "--", 'echo "out $(hostname)"; echo "err $(hostname)" >&2']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n").sort(), [`out ${H1}`, `out ${H2}`]);
  assert.deepEqual(readdirSync(dir).sort(), [`${H1}.log`, `${H2}.log`]);
  for (const h of [H1, H2]) assert.equal(readFileSync(join(dir, `${h}.log`), "utf8"), `out ${h}\nerr ${h}\n`);
});

test("what hosts print reaches the terminal inert (ESC as ^[), and the files as it came", () => {
  const dir = join(project({}), "out");
  const evil = String.raw`printf 'a\033]0;title\007b\033]52;c;aGk=\007c\033[2Jd\rX\n'`;
  const r = troupe(["exec", "--output-dir", dir, `lab:${LAB}`, "--", evil]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x07\x1b\r]/);
  assert.match(r.stdout, new RegExp(`^${H1}: a\\^\\[\\]0;title\\^Gb\\^\\[\\]52;c;aGk=\\^Gc\\^\\[\\[2Jd\\^MX$`, "m"));
  assert.equal(readFileSync(join(dir, `${H1}.log`), "utf8"), "a\x1b]0;title\x07b\x1b]52;c;aGk=\x07c\x1b[2Jd\rX\n");
});

test("--junit writes a test case per host, failed where the status is not 0", () => {
  const file = join(project({}), "exec.xml");
  const r = troupe(["exec", "-q", "--junit", file, `lab:${LAB}`, "--", `echo "<$(hostname)>"; [ "$(hostname)" = ${H1} ]`]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "", "-q: no output");
  const xml = readFileSync(file, "utf8");
  assert.match(xml, /<testsuites name="troupe exec" tests="2" failures="1"/);
  assert.match(xml, new RegExp(`<testcase classname="exec" name="${H1}" time="[\\d.]+">\\n {6}<system-out>&lt;${H1}&gt;\\n</system-out>`));
  assert.match(
    xml,
    new RegExp(
      `<testcase classname="exec" name="${H2}" time="[\\d.]+">\\n {6}<failure message="exit status 1" type="exit">&lt;${H2}&gt;\\n</failure>`,
    ),
  );
});
