// `troupe play` with a host group on google: three instances from the fake,
// one stage on all of them, every instance deleted when the scenario ends.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { project } from "../cli/helpers.js";
import type { FakeCompute } from "./fake-compute.js";
import { SCENARIO_BACKENDS, startFake, troupe, userEnv, writeKey } from "./helpers.js";

let fake: FakeCompute;
const made: string[] = [];
before(async () => {
  fake = await startFake();
});
after(async () => {
  await fake.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test("a scenario's host group on google: one instance per host, deleted at the end", async () => {
  const dir = project({
    "s.yaml": `${SCENARIO_BACKENDS}hosts:
  - names: node-[1..3]
    backend: cloud
stages:
  - name: where
    with_hosts: 'node-(\\d)'
    jobs:
      - run: echo "node-{{ re[1] }} is $(hostname)"
`,
  });
  made.push(dir);
  writeKey(fake, dir);
  const since = fake.seen.length;
  const r = await troupe(["play", "s.yaml"], { cwd: dir, env: await userEnv(fake) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const names = fake.seen
    .slice(since)
    .flatMap((s) => (s.method === "POST" && s.path.endsWith("/instances") ? [(s.body as { name: string }).name] : []));
  assert.equal(names.length, 3);
  for (const n of [1, 2, 3]) {
    const said = new RegExp(`node-${n} is ([a-z]{3}\\d{6}-\\d{6})`).exec(r.stdout)?.[1];
    assert.ok(said && names.includes(said), `node-${n} is one of the instances: ${r.stdout}`);
  }
  assert.deepEqual([...fake.instances.keys()], []);
});
