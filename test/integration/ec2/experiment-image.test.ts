// Tezt-cloud's experiment image on ec2 (moto, lab stand-ins whose `docker`
// is a stand-in too, see cloud/stand-in.ts): the group's `image:` reaches
// each instance's user-data, which pulls it and starts it as the container
// troupe-experiment; troupe waits for it, then every step runs in it
// through `docker exec`. An image that cannot be pulled fails the
// allocation in one line, and no instance is left running.

import { test } from "node:test";
import assert from "node:assert/strict";
import { project } from "../cli/helpers.js";
import { troupeAsyncResult } from "../cloud/moto.js";
import { experimentScenarioTail } from "../cloud/fake-docker.js";
import { useMoto } from "../cloud/moto-account.js";

const account = useMoto({ subnet: "10.213.3.224/28" });

const scenario = (image: string, hosts: string): string => `name: ec2t-image
backends:
  cloud:
    type: ec2
    location: eu-west-1
    subnet: ${account.subnet}
    boot-timeout: 2m
    systems:
      - node:
          image: ami-1e749f67
${experimentScenarioTail(hosts, image)}`;

test("each instance's user-data starts the group's image as troupe-experiment, and every step runs in it", async () => {
  const image = "registry.example.com/tezos:v21";
  const dir = project({ "scenario.yaml": scenario(image, "node-[1..2]") });
  const r = await troupeAsyncResult(["play", "scenario.yaml"], account.moto.env, dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /node-1 in troupe-experiment/);
  assert.match(r.stdout, /node-2 in troupe-experiment/);
  const mine = (await account.instances()).filter((i) => i.SubnetId === account.subnet);
  assert.equal(mine.length, 2);
  for (const i of mine) {
    assert.equal(i.State?.Name, "terminated");
    const calls = await account.standIn.shutdownCalls(i.InstanceId!);
    const docker = calls.split("\n").filter((l) => l.startsWith("docker "));
    assert.equal(docker[0], `docker image inspect ${image}`, calls);
    assert.equal(docker[1], `docker pull ${image}`);
    assert.ok(docker.includes(`docker run -d --name troupe-experiment --network host --entrypoint sleep ${image} infinity`), calls);
    // The step itself went in through docker exec: its script is in docker's arguments.
    assert.ok(docker.some((l) => l.startsWith("docker exec -i troupe-experiment /bin/sh -c ")));
    assert.match(calls, /troupe-ctl barrier up/);
  }
  assert.deepEqual(account.standIn.errors, []);
});

test("an image the machine cannot pull: one line with the registry's reason, and no instance left running", async () => {
  const dir = project({ "scenario.yaml": scenario("registry.example.com/tezos:missing", "lone-1") });
  const r = await troupeAsyncResult(["play", "scenario.yaml"], account.moto.env, dir);
  assert.notEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /lone-1: the experiment image registry\.example\.com\/tezos:missing did not start: .*manifest unknown/);
  const running = (await account.instances()).filter((i) => i.SubnetId === account.subnet && i.State?.Name !== "terminated");
  assert.deepEqual(
    running.map((i) => i.InstanceId),
    [],
  );
});
