// -reuse and -discard on lxd, as Spread: a kept container is not ephemeral,
// outlives the run, is taken back by the next -reuse run with what it holds,
// is left alone by `troupe gc` while the reuse file records it, and goes
// with -discard.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { project, troupe } from "../cli/helpers.js";
import { lxc } from "./image.js";
import { exists, spreadYaml } from "./helpers.js";

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test("-reuse keeps the container, the next -reuse run takes it back, gc leaves it, -discard removes it", () => {
  const dir = project({
    "spread.yaml": spreadYaml(["debian-12"]),
    "checks/count/task.yaml": [
      "summary: counts its runs on the container",
      "execute: |",
      "  echo x >> /root/runs",
      '  echo "RUNS $(wc -l < /root/runs) ON $(hostname)"',
    ].join("\n"),
  });
  made.push(dir);
  const first = troupe(["spread", "-v", "-reuse"], { cwd: dir });
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const name = /^RUNS 1 ON (troupe-\d+-debian-12)$/m.exec(first.stdout)?.[1];
  assert.ok(name, first.stdout);
  try {
    assert.ok(exists(name), `${name} was not kept`);
    assert.ok(existsSync(join(dir, ".troupe-reuse.yaml")));
    const config = JSON.parse(lxc(["query", `/1.0/instances/${name}`])) as { ephemeral: boolean; config: Record<string, string> };
    assert.equal(config.ephemeral, false, "a kept container must not be ephemeral");
    assert.equal(config.config["user.troupe-reuse"], join(dir, ".troupe-reuse.yaml"));

    // Its troupe process is gone, but the reuse file records it.
    const gc = troupe(["gc", "--type", "lxd", "--dry-run"]);
    assert.equal(gc.status, 0, gc.stderr);
    assert.doesNotMatch(gc.stdout, new RegExp(`\\b${name}\\b`));

    const second = troupe(["spread", "-v", "-reuse"], { cwd: dir });
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.match(second.stdout, new RegExp(`Reusing lxd:debian-12 \\(${name}\\) at 10\\.214\\.0\\.\\d+\\.`));
    assert.match(second.stdout, new RegExp(`^RUNS 2 ON ${name}$`, "m"));
  } finally {
    const discard = troupe(["spread", "-discard"], { cwd: dir });
    assert.equal(discard.status, 0, discard.stdout + discard.stderr);
    assert.match(discard.stdout, new RegExp(`Discarding lxd:debian-12 \\(${name}\\)`));
  }
  assert.equal(exists(name), false, `${name} is still there after -discard`);
  const file = join(dir, ".troupe-reuse.yaml");
  assert.doesNotMatch(existsSync(file) ? readFileSync(file, "utf8") : "", new RegExp(name));
});
