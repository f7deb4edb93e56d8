// --reuse keeps a run's containers for the next runs (and out of gc's
// reach); --discard removes them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { listContainers } from "../../../src/backends/docker/containers.js";
import { troupe } from "../cli/helpers.js";
import { api, exampleProject } from "./helpers.js";

test("--reuse keeps the container running for the next run, gc leaves it, --discard removes it", async () => {
  const dir = await exampleProject((y) => y.replace("workers: 3", "workers: 1"));
  rmSync(join(dir, "checks/pair"), { recursive: true });
  let id: string | undefined;
  try {
    const first = troupe(["run", "--reuse", "checks/identity"], { cwd: dir });
    assert.equal(first.status, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /Keeping docker:debian-12 \(debian-12-1\)/);
    id = /^ {12}id: ([0-9a-f]{64})$/m.exec(readFileSync(join(dir, ".troupe-reuse.yaml"), "utf8"))?.[1];
    assert.ok(id, "the reuse file names the container");
    const kept = (await listContainers(api, ["troupe=1"])).find((c) => c.Id === id);
    assert.equal(kept?.State, "running");
    assert.equal(kept.Labels?.["troupe-process"], undefined, "no process label: gc leaves it");

    const gc = troupe(["gc", "--type", "docker", "--dry-run"]);
    assert.equal(gc.status, 0, gc.stderr);
    assert.ok(!gc.stdout.includes(kept.Names[0]!.slice(1)), gc.stdout);

    const second = troupe(["run", "--reuse", "checks/identity"], { cwd: dir });
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /Reusing docker:debian-12 \(debian-12-1\)/);
    assert.doesNotMatch(second.stdout, /Allocated docker/);
  } finally {
    // However the test went, the kept container goes.
    const discard = troupe(["run", "--discard"], { cwd: dir });
    assert.equal(discard.status, 0, discard.stdout + discard.stderr);
    if (id) assert.match(discard.stdout, /Discarding docker:debian-12 \(debian-12-1\)/);
  }
  assert.ok(!(await listContainers(api, ["troupe=1"])).some((c) => c.Id === id), "discarded");
});
