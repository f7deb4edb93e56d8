// Nothing of an lxd run outlives it: Ctrl-C, SIGTERM and SIGHUP discard its
// containers; after kill -9, `troupe gc` removes them, and only them (a
// container of a run that is still going stays).

import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { project, troupe, troupeAsync } from "../cli/helpers.js";
import { containersOf, spreadYaml } from "./helpers.js";

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function slowProject(): string {
  const dir = project({
    "spread.yaml": spreadYaml(["debian-12"]),
    "checks/slow/task.yaml": "summary: waits\nexecute: |\n  echo STARTED\n  sleep 743\n",
  });
  made.push(dir);
  return dir;
}

interface Running {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** A run started, once its job prints STARTED (the container is up and the script running). */
async function startRun(dir: string): Promise<Running> {
  const child = troupeAsync(["spread", "-vv"], { cwd: dir });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const look = (c: Buffer): void => {
      out += c.toString();
      if (/^STARTED$/m.test(out)) resolve();
    };
    child.stdout?.on("data", look);
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    void exited.then((code) => reject(new Error(`troupe exited (${code}) before its job started:\n${out}`)));
  });
  return { child, output: () => out, exited };
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  test(`${signal} during a job: the container is discarded, exit 130`, async () => {
    const run = await startRun(slowProject());
    assert.equal(containersOf(run.child.pid!).length, 1);
    run.child.kill(signal);
    const status = await run.exited;
    assert.equal(status, 130, run.output());
    assert.match(run.output(), /Discarding lxd:debian-12 \(troupe-\d+-debian-12\)/);
    assert.deepEqual(containersOf(run.child.pid!), []);
  });
}

test("kill -9, then troupe gc: the dead run's container goes, a live run's stays", async () => {
  const dir = slowProject();
  const [killed, alive] = await Promise.all([startRun(dir), startRun(dir)]);
  try {
    killed.child.kill("SIGKILL");
    await killed.exited;
    const left = containersOf(killed.child.pid!);
    assert.equal(left.length, 1, "kill -9 leaves the container (nothing ran to remove it)");
    const name = left[0]!.name;
    const live = containersOf(alive.child.pid!)[0]!.name;

    const dry = troupe(["gc", "--type", "lxd", "--dry-run"]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`${name}.*the troupe process ${killed.child.pid} that made it is gone`));
    assert.doesNotMatch(dry.stdout, new RegExp(`\\b${live}\\b`));

    const gc = troupe(["gc", "--type", "lxd"]);
    assert.equal(gc.status, 0, gc.stdout + gc.stderr);
    assert.deepEqual(containersOf(killed.child.pid!), []);
    assert.equal(containersOf(alive.child.pid!).length, 1, "gc removed the container of a run that is still going");
  } finally {
    alive.child.kill("SIGTERM");
    await alive.exited;
  }
  assert.deepEqual(containersOf(alive.child.pid!), []);
});
