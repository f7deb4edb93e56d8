// Tezt-cloud's localhost mode: a scenario whose host group runs on a cloud
// backend with the experiment's image (`image:`) runs unchanged as local
// containers of that image with `--backend-as GROUP=docker`; a backend that
// cannot run an image is refused at the group's `image:`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listContainers } from "../../../src/backends/docker/containers.js";
import { LABEL_PROCESS } from "../../../src/gc/owner.js";
import { REPO, project, troupe } from "../cli/helpers.js";
import { api } from "./helpers.js";
import { TEST_IMAGE, testImage } from "./image.js";

/** examples/tezt-cloud as users run it, on the test image rather than one pulled from a registry. */
const SCENARIO = readFileSync(join(REPO, "examples/tezt-cloud/scenario.yaml"), "utf8").replace(
  "image: debian:bookworm-slim",
  `image: ${TEST_IMAGE}`,
);

test("--backend-as cloud=docker runs the cloud scenario's hosts as containers of the group's image, and removes them", async () => {
  await testImage(api);
  const dir = project({ "scenario.yaml": SCENARIO });
  const r = troupe(["play", "--backend-as", "cloud=docker", "scenario.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const n of [1, 2, 3]) assert.match(r.stdout, new RegExp(`node-${n} runs Debian 12 in the experiment's image`));
  const left = (await listContainers(api, ["troupe=1"])).filter((c) => c.Labels?.[LABEL_PROCESS]?.startsWith(`${r.pid}_`));
  assert.deepEqual(
    left.map((c) => c.Names[0]),
    [],
  );
});

test("a backend that cannot run the image is refused at the group's image:, with the way to run it locally", () => {
  const dir = project({ "scenario.yaml": SCENARIO });
  const r = troupe(["play", "--backend-as", "cloud=local", "scenario.yaml"], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /scenario\.yaml:27:12/);
  assert.match(
    r.stderr,
    /node-1 runs the experiment in troupe-test-debian:latest, and backend 'cloud' runs as local \(--backend-as cloud=local\)/,
  );
  assert.match(r.stderr, /--backend-as cloud=docker/);
});
