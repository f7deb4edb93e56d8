// Spread's root password behaviour, the way Spread's own tests/adhoc uses
// it: a container kept by `troupe spread -reuse` (no -pass: a random
// password, one for the run) is in `.spread-reuse.yaml` with root's password
// and its address; an adhoc backend then logs into it as root with that
// password, with `-resend` and no `-reuse` as the test runs it.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { project, troupe } from "../cli/helpers.js";
import { exists, spreadYaml } from "./helpers.js";

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test("a container kept for a Spread project has root's password in .spread-reuse.yaml, and an adhoc backend logs in with it", () => {
  const more = [
    "  adhoc:",
    "    allocate: |",
    "      echo ALLOCATING",
    "      ADDRESS $ADHOC_ADDRESS",
    "    discard: echo DISCARDING",
    "    systems:",
    "      - debian-12:",
    "          username: $ADHOC_USERNAME",
    "          password: $ADHOC_PASSWORD",
  ];
  // The lxd backend of the test project, and an adhoc one next to it, as Spread's tests/adhoc has them.
  const env = ["environment:", ...["USERNAME", "PASSWORD", "ADDRESS"].map((k) => `  ADHOC_${k}: $(HOST:echo $ADHOC_${k})`)];
  const yaml = spreadYaml(["debian-12"]).replace(
    "path: /home/test",
    [
      ...more,
      ...env,
      "path: /home/adhoc",
      "# As Spread's test: the copy goes, or the adhoc run finds its path not empty.",
      "restore: rm -rf /home/adhoc",
    ].join("\n"),
  );
  const dir = project({ "spread.yaml": yaml, "checks/main/task.yaml": "summary: s\nexecute: echo WORKS $(hostname)\n" });
  made.push(dir);
  const kept = troupe(["spread", "-reuse", "lxd:"], { cwd: dir });
  let name: string | undefined;
  try {
    assert.equal(kept.status, 0, kept.stdout + kept.stderr);
    const doc = parse(readFileSync(join(dir, ".spread-reuse.yaml"), "utf8")) as {
      backends: { lxd: { systems: Record<string, { password: string; address: string; data: { name: string } }>[] } };
    };
    const entry = doc.backends.lxd.systems[0]!["debian-12"]!;
    name = entry.data.name;
    assert.match(entry.password, /^[0-9a-f]{16}$/, "a random password, as Spread makes one");

    const adhoc = troupe(["spread", "-vv", "-resend", "adhoc:"], {
      cwd: dir,
      env: { ADHOC_USERNAME: "root", ADHOC_PASSWORD: entry.password, ADHOC_ADDRESS: entry.address },
    });
    assert.equal(adhoc.status, 0, adhoc.stdout + adhoc.stderr);
    assert.match(adhoc.stdout, /adhoc:debian-12:checks\/main/);
    assert.match(adhoc.stdout, /^ALLOCATING$/m);
    assert.match(adhoc.stdout, /^DISCARDING$/m);
    assert.match(adhoc.stdout, new RegExp(`^WORKS ${name}$`, "m"), "logged into the container with root's password");
  } finally {
    const d = troupe(["spread", "-discard"], { cwd: dir });
    assert.equal(d.status, 0, d.stdout + d.stderr);
  }
  assert.equal(exists(name), false);
});
