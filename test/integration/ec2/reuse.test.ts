// --reuse on ec2 (moto, lab stand-ins): the run's instance stays up at the
// end, recorded in .troupe-reuse.yaml with the key that lets root in;
// `troupe gc` leaves it although the troupe that made it is gone (only its
// halt time counts); the next --reuse run takes it back instead of making
// one; --discard terminates it and empties the file.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { project } from "../cli/helpers.js";
import { troupeAsyncResult } from "../cloud/moto.js";
import { tagsOf, useMoto } from "../cloud/moto-account.js";

const account = useMoto({ subnet: "10.213.3.192/27" });

test("--reuse keeps the instance for the next run, gc leaves it until its halt time, --discard terminates it", async () => {
  const dir = project({
    "troupe.yaml": `project: ec2t-reuse
path: /srv/ec2t-reuse
backends:
  ec2:
    location: eu-west-1
    subnet: ${account.subnet}
    halt-timeout: 2h
    boot-timeout: 2m
    systems:
      - trusty:
          image: ami-1e749f67
suites:
  checks/:
    summary: counts the runs on one machine
`,
    "checks/count/task.yaml": `summary: one line per run, on the machine
execute: |
  echo run >> /var/tmp/ec2t-reuse-runs
  echo "RUNS $(wc -l < /var/tmp/ec2t-reuse-runs)"
`,
  });
  const env = account.moto.env;
  const first = await troupeAsyncResult(["run", "--project", dir, "--reuse", "-v"], env);
  assert.equal(first.status, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /RUNS 1/);
  assert.match(first.stdout, /Keeping ec2:trusty \(trusty-1\) at 10\.213\.3\.\d+\./);
  const [made, ...more] = (await account.instances()).filter((i) => i.SubnetId === account.subnet);
  assert.ok(made?.InstanceId, "one instance");
  assert.deepEqual(more, []);
  const id = made.InstanceId;
  assert.equal(made.State?.Name, "running", "kept, not terminated");
  assert.equal(tagsOf(made)["troupe-process"], undefined, "no troupe process label: the process is gone on purpose");
  const file = readFileSync(join(dir, ".troupe-reuse.yaml"), "utf8");
  assert.match(file, new RegExp(`id: ${id}`));
  assert.match(file, /BEGIN OPENSSH PRIVATE KEY/, "the key that lets root in");

  const gc = await troupeAsyncResult(["gc", "--type", "ec2", "--dry-run"], env);
  assert.equal(gc.status, 0, gc.stdout + gc.stderr);
  assert.doesNotMatch(gc.stdout, new RegExp(id), "gc waits for its halt time");

  const second = await troupeAsyncResult(["run", "--project", dir, "--reuse", "-v"], env);
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /Reusing ec2:trusty \(trusty-1\) at 10\.213\.3\.\d+\./);
  assert.match(second.stdout, /RUNS 2/, "the same machine");
  assert.equal((await account.instances()).filter((i) => i.SubnetId === account.subnet).length, 1, "no new instance");
  assert.equal(await account.stateOf(id), "running");

  const discard = await troupeAsyncResult(["run", "--project", dir, "--discard"], env);
  assert.equal(discard.status, 0, discard.stdout + discard.stderr);
  assert.match(discard.stdout, /Discarding ec2:trusty \(trusty-1\)/);
  assert.equal(await account.stateOf(id), "terminated");
  assert.ok(!existsSync(join(dir, ".troupe-reuse.yaml")) || !readFileSync(join(dir, ".troupe-reuse.yaml"), "utf8").includes(id));
});
