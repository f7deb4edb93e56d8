// Nothing is left on the engine: Ctrl-C, SIGTERM and SIGHUP remove a run's
// containers; after `kill -9`, `troupe gc` does, and only that run's.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { troupe, troupeAsync } from "../cli/helpers.js";
import { containersOf, exampleProject, exited, outputMatches } from "./helpers.js";

/** The example with a task that never ends, on 2 containers. */
async function slowProject(): Promise<string> {
  const dir = await exampleProject((y) => y.replace("workers: 3", "workers: 2"));
  writeFileSync(join(dir, "checks/identity/task.yaml"), "summary: never ends\nexecute: sleep 7431\n");
  writeFileSync(join(dir, "checks/artifacts/task.yaml"), "summary: never ends either\nexecute: sleep 7432\n");
  return dir;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  test(`${signal} during a run removes its containers, exit 130`, async () => {
    const dir = await slowProject();
    const child = troupeAsync(["run", "checks/identity", "checks/artifacts"], { cwd: dir });
    await outputMatches(child, /Executing[^]*Executing/);
    assert.equal((await containersOf(child.pid!)).length, 2);
    child.kill(signal);
    assert.equal(await exited(child), 130);
    assert.deepEqual(await containersOf(child.pid!), []);
  });
}

test("kill -9 leaves the containers; troupe gc removes them and says so", async () => {
  const dir = await slowProject();
  const child = troupeAsync(["run", "checks/identity", "checks/artifacts"], { cwd: dir });
  await outputMatches(child, /Executing[^]*Executing/);
  child.kill("SIGKILL");
  await exited(child);
  const left = await containersOf(child.pid!);
  assert.equal(left.length, 2);
  const dry = troupe(["gc", "--type", "docker", "--dry-run"]);
  assert.equal(dry.status, 0, dry.stderr);
  for (const name of left)
    assert.match(
      dry.stdout,
      new RegExp(`would remove docker container ${name.slice(1)} \\(run \\S+\\): the troupe process ${child.pid} that made it is gone`),
    );
  assert.equal((await containersOf(child.pid!)).length, 2);
  const gc = troupe(["gc", "--type", "docker"]);
  assert.equal(gc.status, 0, gc.stdout + gc.stderr);
  for (const name of left) assert.match(gc.stdout, new RegExp(`removed docker container ${name.slice(1)} `));
  assert.deepEqual(await containersOf(child.pid!), []);
});

test("troupe gc leaves the containers of a run that is still going", async () => {
  const dir = await slowProject();
  const child = troupeAsync(["run", "checks/identity"], { cwd: dir });
  try {
    await outputMatches(child, /Executing/);
    const gc = troupe(["gc", "--type", "docker"]);
    assert.equal(gc.status, 0, gc.stdout + gc.stderr);
    assert.equal((await containersOf(child.pid!)).length, 1);
  } finally {
    child.kill("SIGINT");
    await exited(child);
  }
  assert.deepEqual(await containersOf(child.pid!), []);
});

test("Ctrl-C while containers are being made: none is left", async () => {
  const dir = await slowProject();
  const child = troupeAsync(["run", "checks/identity", "checks/artifacts"], { cwd: dir });
  await outputMatches(child, /Allocating docker/);
  child.kill("SIGINT");
  assert.equal(await exited(child), 130);
  assert.deepEqual(await containersOf(child.pid!), []);
});
