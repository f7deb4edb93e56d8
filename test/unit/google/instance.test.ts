// What an instance is asked to be: Spread's name, labels, network and disk,
// the startup script, and the lifetime GCE enforces.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  instanceAddress,
  instanceBody,
  instanceName,
  isSpreadName,
  labelValue,
  READY_MARKER,
  spreadLabels,
  startupScript,
} from "../../../src/backends/google/instance.js";

test("instance names are Spread's (month, day, hour, minute, then microseconds), unique in the process", () => {
  const t = Date.UTC(2026, 11, 7, 17, 34, 5, 123) + 0.456;
  assert.equal(instanceName(t), "dec071734-123456");
  assert.equal(instanceName(t), "dec071734-123457", "the same instant twice: the next microsecond");
  assert.ok(isSpreadName(instanceName()));
  assert.ok(!isSpreadName("my-vm"));
});

test("label values are lower-case letters, digits, _ and -, at most 63", () => {
  assert.equal(labelValue("John.Doe@Example"), "john_doe_example");
  assert.equal(labelValue("x".repeat(80)).length, 63);
});

test("Spread's labels, with the halt-timeout Spread's gc reads", () => {
  assert.deepEqual(spreadLabels("Gustavo", false, 7200_000), { spread: "true", owner: "gustavo", reuse: "false", "halt-timeout": "7200s" });
});

test("the startup script sets root's password however it is quoted, and says so on the third serial port", () => {
  const script = startupScript(`it's "a" $secret`);
  const check = spawnSync("sh", ["-n"], { input: script });
  assert.equal(check.status, 0, check.stderr.toString());
  const shown = spawnSync("sh", [
    "-c",
    script
      .split("\n")
      .find((l) => l.includes("chpasswd"))!
      .replace("| chpasswd", ""),
  ]);
  assert.equal(shown.stdout.toString(), `root:it's "a" $secret\n`);
  assert.match(script, new RegExp(`echo ${READY_MARKER} > /dev/ttyS2`));
});

test("the insert body: Spread's machine plus a lifetime with DELETE", () => {
  const body = instanceBody({
    name: "dec071734-123456",
    zone: "us-east1-b",
    project: "p",
    config: { label: "google:u", image: "u", plan: "e2-small", diskSizeGb: 20, secureBoot: true, cpuFamily: "Intel Skylake" },
    sourceImage: "global/images/u",
    password: "pw",
    labels: { spread: "true" },
    lifetimeMs: 90_500,
  });
  assert.equal(body["machineType"], "zones/us-east1-b/machineTypes/e2-small");
  assert.equal(body["minCpuPlatform"], "Intel Skylake");
  assert.deepEqual(body["scheduling"], { maxRunDuration: { seconds: "91" }, instanceTerminationAction: "DELETE" });
  assert.deepEqual((body["disks"] as { initializeParams: unknown }[])[0]!.initializeParams, {
    sourceImage: "global/images/u",
    diskSizeGb: "20",
  });
  assert.ok(body["shieldedInstanceConfig"]);
  assert.deepEqual(body["tags"], { items: ["spread"] });
});

test("an instance is reached at its NAT address, else its internal one", () => {
  const nic = { networkIP: "10.0.0.2", accessConfigs: [{ type: "ONE_TO_ONE_NAT", natIP: "34.1.2.3" }] };
  assert.equal(instanceAddress({ name: "a", networkInterfaces: [nic] }), "34.1.2.3");
  assert.equal(instanceAddress({ name: "a", networkInterfaces: [{ networkIP: "10.0.0.2" }] }), "10.0.0.2");
  assert.equal(instanceAddress({ name: "a" }), undefined);
});
