// The experiment image in what machines boot with (ec2's user-data, GCE's
// startup script) and in a scenario's plan. The scripts are checked by the
// machine's own sh (syntax) and for what they ask Docker to do.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { bootScript } from "../../../src/backends/cloud/boot-script.js";
import { EXPERIMENT_IMAGE_KEY, experimentImage, machineKind } from "../../../src/backends/cloud/experiment.js";
import { READY_MARKER, startupScript } from "../../../src/backends/google/instance.js";
import { checkImageBackends, planHosts } from "../../../src/scenario/hosts.js";
import type { Backend, System } from "../../../src/model/project.js";
import { isTroupeError } from "../../../src/util/errors.js";

const POS = { file: "scenario.yaml", line: 3, col: 5 };
const SYSTEM: System = { name: "node", backend: "cloud", image: "ami-1", workers: 1, pos: POS, where: {}, environment: [], extra: {} };
const CLOUD: Backend = { name: "cloud", type: "ec2", pos: POS, where: {}, environment: [], systems: [SYSTEM], extra: {} };

function shSyntax(script: string): void {
  const r = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

test("ec2's user-data starts the image as troupe-experiment after letting root in, and stays valid sh", () => {
  const image = "registry.example.com/it's:v1";
  const s = bootScript({ publicKey: "ssh-ed25519 AAAA k", lifetimeMinutes: 60, experimentImage: image });
  shSyntax(s);
  const q = `'registry.example.com/it'\\''s:v1'`;
  const lines = s.split("\n");
  const at = (needle: string): number => lines.findIndex((l) => l.includes(needle));
  assert.ok(at("authorized_keys") < at(`docker pull ${q}`), "root gets its key before the image is pulled");
  assert.ok(at(`docker image inspect ${q} >/dev/null 2>&1 || docker pull ${q}`) > 0, "a machine image that holds it is not pulled from");
  assert.ok(at(`docker run -d --name troupe-experiment --network host --entrypoint sleep ${q} infinity`) > 0, s);
  assert.ok(at("/run/troupe-experiment.ready") > 0 && at("/run/troupe-experiment.failed") > 0);
  assert.equal(lines.at(-2), "exit 0");
  assert.doesNotMatch(bootScript({ publicKey: "ssh-ed25519 AAAA k", lifetimeMinutes: 60 }), /docker/);
});

test("GCE's startup script says the machine is ready before pulling the image, and stays valid sh", () => {
  const s = startupScript("pw", "tezos/tezos:latest");
  shSyntax(s);
  assert.ok(s.indexOf(READY_MARKER) < s.indexOf("docker pull"), s);
  assert.doesNotMatch(startupScript("pw"), /docker/);
});

test("a group's image: reaches its hosts' system, so that machines of two images are never made by one call", () => {
  const { hosts, problems } = planHosts(
    [
      { names: ["a-[1..2]"], backend: "cloud", image: "tezos:v1", groups: [], path: ["hosts", 0] },
      { names: ["b-1"], backend: "cloud", groups: [], path: ["hosts", 1] },
    ],
    [CLOUD],
  );
  assert.deepEqual(problems, []);
  assert.equal(experimentImage(hosts[0]!.system), "tezos:v1");
  assert.equal(hosts[0]!.image?.name, "tezos:v1");
  assert.equal(experimentImage(hosts[2]!.system), undefined);
  assert.notEqual(machineKind(hosts[0]!.system), machineKind(hosts[2]!.system));
  assert.equal(hosts[0]!.system.extra[EXPERIMENT_IMAGE_KEY], "tezos:v1");
});

test("an image: that is no image reference is a problem at its place", () => {
  const imagePos = { file: "scenario.yaml", line: 7, col: 12 };
  const { problems } = planHosts(
    [{ names: ["a-1"], backend: "cloud", image: "two words", imagePos, groups: [], path: ["hosts", 0] }],
    [CLOUD],
  );
  assert.equal(problems.length, 1);
  assert.deepEqual(problems[0]!.pos, imagePos);
  assert.match(problems[0]!.message, /Docker image reference/);
});

test("only docker, ec2 and google run an image; the refusal names the way to run it locally", () => {
  const { hosts } = planHosts([{ names: ["a-1"], backend: "cloud", image: "tezos:v1", groups: [], path: ["hosts", 0] }], [CLOUD]);
  checkImageBackends(hosts);
  checkImageBackends(hosts, { backendAs: { cloud: "docker" } });
  try {
    checkImageBackends(hosts, { backendAs: { cloud: "lab" } });
    assert.fail("lab cannot run an image");
  } catch (err) {
    assert.ok(isTroupeError(err) && err.code === "E_PROJECT", String(err));
    assert.match(err.message, /--backend-as cloud=docker/);
  }
});
