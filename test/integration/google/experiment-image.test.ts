// Tezt-cloud's experiment image on google (the fake Compute API, lab hosts
// whose `docker` is a stand-in, see ../cloud/fake-docker.ts): the group's
// `image:` reaches each instance's startup script, which pulls it and starts
// it as troupe-experiment once root may log in; troupe waits for it, and the
// steps run in it through docker exec.

import { test } from "node:test";
import assert from "node:assert/strict";
import { project } from "../cli/helpers.js";
import { experimentScenarioTail } from "../cloud/fake-docker.js";
import { SCENARIO_BACKENDS, troupe, useFake, userEnv, writeKey } from "./helpers.js";

const ctx = useFake();

test("a host group's image: on google runs every step in the container troupe-experiment", async () => {
  const image = "registry.example.com/tezos:v21";
  const dir = project({
    "s.yaml": `${SCENARIO_BACKENDS}${experimentScenarioTail("node-[1..2]", image)}`,
  });
  ctx.made.push(dir);
  writeKey(ctx.fake, dir);
  const since = ctx.fake.seen.length;
  const r = await troupe(["play", "s.yaml"], { cwd: dir, env: await userEnv(ctx.fake) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /node-1 in troupe-experiment/);
  assert.match(r.stdout, /node-2 in troupe-experiment/);
  const scripts = ctx.fake.seen
    .slice(since)
    .flatMap((s) =>
      s.method === "POST" && s.path.endsWith("/instances")
        ? (s.body as { metadata: { items: { key: string; value: string }[] } }).metadata.items.filter((i) => i.key === "startup-script")
        : [],
    );
  assert.equal(scripts.length, 2);
  for (const s of scripts)
    assert.match(s.value, new RegExp(`docker run -d --name troupe-experiment --network host --entrypoint sleep ${image} infinity`));
  assert.deepEqual([...ctx.fake.instances.keys()], []);
});
