// `troupe gc` on EC2 (moto): it terminates troupe's instances whose halt
// time has passed or whose troupe process is gone, and only those; an
// untagged instance and one whose run is alive stay. A troupe killed with
// SIGKILL while it allocates leaves instances that gc then terminates.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "@aws-sdk/client-ec2";
import { currentOwner } from "../../../src/gc/owner.js";
import { cloudLabels } from "../../../src/backends/cloud/owner.js";
import { project, troupeAsync } from "../cli/helpers.js";
import { troupeAsyncResult } from "../cloud/moto.js";
import { useMoto } from "../cloud/moto-account.js";
import { labSubnet } from "../cloud/vpc.js";

const account = useMoto();
const { instances, launch, stateOf } = account;

test("troupe gc terminates a tagged instance past its halt time, and leaves an untagged one and one whose run is alive", async () => {
  const hour = 3_600_000;
  const expired = await launch({ ...cloudLabels("20200101-000000-dead", new Date(Date.now() - hour)), Name: "ec2gc-expired" });
  const untagged = await launch({ Name: "ec2gc-untagged" });
  // Made by this very process (alive, on this machine), to be gone in an hour.
  const alive = await launch({ ...cloudLabels("20200101-000000-live", new Date(Date.now() + hour)), Name: "ec2gc-alive" });
  assert.ok(currentOwner().process.pid === process.pid);

  const dry = await troupeAsyncResult(["gc", "--type", "ec2", "--dry-run"], account.moto.env);
  assert.equal(dry.status, 0, dry.stdout + dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(
      `^would remove ec2 instance ${expired} \\(ec2gc-expired\\) in eu-west-1 \\(run 20200101-000000-dead\\): its halt time .* has passed$`,
      "m",
    ),
  );
  assert.doesNotMatch(dry.stdout, new RegExp(`${untagged}|${alive}`));
  assert.equal(await stateOf(expired), "running", "--dry-run removes nothing");

  const gc = await troupeAsyncResult(["gc", "--type", "ec2"], account.moto.env);
  assert.equal(gc.status, 0, gc.stdout + gc.stderr);
  assert.match(gc.stdout, new RegExp(`^removed ec2 instance ${expired} `, "m"));
  assert.match(gc.stdout, /^Removed 1\.$/m);
  assert.equal(await stateOf(expired), "terminated");
  assert.equal(await stateOf(untagged), "running");
  assert.equal(await stateOf(alive), "running");
});

test("after kill -9 of troupe in the middle of allocating, troupe gc leaves no running instance", async () => {
  // A subnet of the lab's range with no lab host behind it: the instances never answer, troupe waits for them.
  const subnet = await labSubnet(account.moto, "10.213.1.192/26");
  const dir = project({
    "troupe.yaml": `project: ec2t-kill
backends:
  ec2:
    location: eu-west-1
    subnet: ${subnet}
    boot-timeout: 30m
    systems:
      - trusty:
          image: ami-1e749f67
          workers: 3
suites:
  checks/:
    summary: never runs
`,
    "checks/a/task.yaml": "summary: a\nexecute: 'true'\n",
    "checks/b/task.yaml": "summary: b\nexecute: 'true'\n",
    "checks/c/task.yaml": "summary: c\nexecute: 'true'\n",
  });
  const before = new Set((await instances()).map((i) => i.InstanceId));
  const child = troupeAsync(["run", "--project", dir], { env: { ...account.moto.env } });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Wait for troupe's instances to exist, by asking moto as the allocation goes.
  let mine: Instance[] = [];
  for (;;) {
    mine = (await instances()).filter((i) => !before.has(i.InstanceId) && i.SubnetId === subnet);
    if (mine.length === 3) break;
    if (child.exitCode !== null) assert.fail(`troupe ended (${child.exitCode}) before its instances were made`);
    await new Promise((r) => setImmediate(r));
  }
  child.kill("SIGKILL");
  await exited;
  for (const i of mine) assert.equal(i.State?.Name === "terminated", false, "troupe had no time to terminate them");

  const gc = await troupeAsyncResult(["gc", "--type", "ec2"], account.moto.env);
  assert.equal(gc.status, 0, gc.stdout + gc.stderr);
  assert.match(gc.stdout, /the troupe process \d+ that made it is gone/);
  const left = (await instances()).filter((i) => !before.has(i.InstanceId) && i.State?.Name !== "terminated");
  assert.deepEqual(
    left.map((i) => i.InstanceId),
    [],
  );
});
