// `troupe gc` on google: it deletes troupe's instances whose halt time has
// passed, says so (or only says, with --dry-run), and leaves alone an
// instance without troupe's labels and one a troupe on another machine is
// still using. The instances are made through the fake's API as any client
// would make them; where to look comes from the project file's google
// backends, or from CLOUDSDK_CORE_PROJECT without one.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { project } from "../cli/helpers.js";
import type { FakeCompute } from "./fake-compute.js";
import { PROJECT, spreadYaml, startFake, troupe, userEnv, writeKey, ZONE } from "./helpers.js";

const IMAGE = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts";
const EXPIRED = "jan010101-000001";
const NOT_TROUPES = "jan010101-000002";
const ELSEWHERE = "jan010101-000003";

let fake: FakeCompute;
const made: string[] = [];
before(async () => {
  fake = await startFake();
});
after(async () => {
  await fake.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const seconds = (ms: number): string => String(Math.floor(ms / 1000));

async function seed(): Promise<void> {
  for (const name of [EXPIRED, NOT_TROUPES, ELSEWHERE]) await fake.deleteNow(name);
  await fake.insertAs(
    ZONE,
    EXPIRED,
    {
      troupe: "1",
      "troupe-owner": "ci",
      "troupe-run": "20260101-000000-dead",
      "troupe-halt-at": seconds(Date.now() - 60_000),
    },
    IMAGE,
  );
  // Spread's own instance, or anyone's: no troupe label.
  await fake.insertAs(ZONE, NOT_TROUPES, { spread: "true", owner: "ci" }, IMAGE);
  // troupe's, from a process on another machine, its halt time to come: nothing here can tell it is dead.
  await fake.insertAs(
    ZONE,
    ELSEWHERE,
    {
      troupe: "1",
      "troupe-owner": "ci",
      "troupe-process": "1_1_0123456789abcdef0123456789abcdef",
      "troupe-halt-at": seconds(Date.now() + 3600_000),
    },
    IMAGE,
  );
}

test("gc deletes troupe's instance past its halt time, and only that (CLOUDSDK_CORE_PROJECT, no project file)", async () => {
  await seed();
  const cwd = mkdtempSync(join(tmpdir(), "gce-gc-"));
  made.push(cwd);
  const env = await userEnv(fake, { CLOUDSDK_CORE_PROJECT: PROJECT, GOOGLE_APPLICATION_CREDENTIALS: writeKey(fake, cwd) });

  const dry = await troupe(["gc", "--type", "google", "--dry-run"], { cwd, env });
  assert.equal(dry.status, 0, dry.stdout + dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(
      `^would remove google instance ${EXPIRED} \\(${PROJECT}/${ZONE}\\) \\(run 20260101-000000-dead\\): its halt time \\S+ has passed$`,
      "m",
    ),
  );
  assert.match(dry.stdout, /^Would remove 1\.$/m);
  assert.ok(fake.instances.has(EXPIRED), "--dry-run deletes nothing");

  const r = await troupe(["gc", "--type", "google"], { cwd, env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^removed google instance ${EXPIRED} \\(${PROJECT}/${ZONE}\\)`, "m"));
  assert.match(r.stdout, /^Removed 1\.$/m);
  assert.deepEqual([...fake.instances.keys()].sort(), [NOT_TROUPES, ELSEWHERE].sort());
});

test("gc looks where the project's google backends are, with their keys", async () => {
  await seed();
  const dir = project({
    "spread.yaml": spreadYaml(`key: key.json\nlocation: ${PROJECT}/${ZONE}\nsystems: [ubuntu-22.04]`),
    "checks/hello/task.yaml": "summary: hello\nexecute: echo hello\n",
  });
  made.push(dir);
  writeKey(fake, dir);
  const r = await troupe(["gc", "--type", "google"], { cwd: dir, env: await userEnv(fake) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^removed google instance ${EXPIRED} `, "m"));
  assert.deepEqual([...fake.instances.keys()].sort(), [NOT_TROUPES, ELSEWHERE].sort());
});

test("gc with nowhere to look says so and goes on", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "gce-gc-"));
  made.push(cwd);
  const r = await troupe(["gc", "--type", "google"], { cwd, env: await userEnv(fake) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /^skipped google: no google backend in a project file here, and neither CLOUDSDK_CORE_PROJECT nor GOOGLE_CLOUD_PROJECT is set$/m,
  );
});

test("kill -9 of troupe while its instances boot, then gc: no instance left", async () => {
  const dir = project({
    "spread.yaml": spreadYaml(`key: key.json\nlocation: ${PROJECT}/${ZONE}\nsystems:\n  - ubuntu-22.04:\n      workers: 2`),
    "checks/a/task.yaml": "summary: a\nexecute: echo a\n",
    "checks/b/task.yaml": "summary: b\nexecute: echo b\n",
  });
  made.push(dir);
  writeKey(fake, dir);
  const before = new Set(fake.instances.keys());
  const env = await userEnv(fake);
  const killed = await troupe(["run", "-v"], { cwd: dir, env, when: { output: /is instance[\s\S]*is instance/, signal: "SIGKILL" } });
  assert.equal(killed.status, null, killed.stdout + killed.stderr);
  const left = [...fake.instances.keys()].filter((n) => !before.has(n));
  assert.equal(left.length, 2, "the killed run left its instances");
  const r = await troupe(["gc", "--type", "google"], { cwd: dir, env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const name of left)
    assert.match(r.stdout, new RegExp(`^removed google instance ${name} .*: the troupe process \\d+ that made it is gone$`, "m"));
  assert.deepEqual(
    [...fake.instances.keys()].filter((n) => !before.has(n)),
    [],
  );
});
