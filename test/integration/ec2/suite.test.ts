// A project with `type: ec2` runs its suite and a multi-host job on
// instances of moto's EC2 API, stood in for by lab hosts at the instances'
// private addresses: the whole path for real (RunInstances with tags and
// user-data, DescribeInstances, SSH with the run's own key, jobs, a
// barrier across hosts, TerminateInstances). Needs root (lab hosts) and
// moto_server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateSecurityGroupCommand, DescribeSubnetsCommand, ImportKeyPairCommand } from "@aws-sdk/client-ec2";
import { project, troupeAsync } from "../cli/helpers.js";
import { troupeAsyncResult } from "../cloud/moto.js";
import { tagsOf, useMoto } from "../cloud/moto-account.js";
import { motoClient } from "../cloud/vpc.js";

const account = useMoto({ subnet: "10.213.2.0/24" });
const { instances } = account;

const TROUPE_YAML = (subnetId: string, more = ""): string => `project: ec2t-suite
path: /srv/ec2t
backends:
  ec2:
    location: eu-west-1
    subnet: ${subnetId}
    plan: t3.small
    halt-timeout: 90m
    boot-timeout: 2m
${more}    systems:
      - trusty:
          # moto's copy of Canonical's AMI, found by name as users write it
          image: ubuntu/images/hvm-ssd/ubuntu-trusty-14.04-amd64-*
          image-owners: ["099720109477"]
          workers: 2
suites:
  checks/:
    summary: checks on ec2 instances
`;

test("a type: ec2 project runs its suite and a multi-host job on moto's instances, tagged, then terminates them all", async () => {
  const dir = project({
    "troupe.yaml": TROUPE_YAML(account.subnet),
    "checks/whoami/task.yaml": `summary: root on an instance with the project in place
execute: |
  test "$(id -u)" = 0
  test -f /srv/ec2t/checks/whoami/task.yaml
  echo "on $(hostname) at $TROUPE_HOST"
`,
    "checks/pair/task.yaml": `summary: two instances meet at a barrier and exchange a value
hosts:
  server: {}
  client: {}
execute/server: |
  troupe-ctl kv set secret 42
  troupe-ctl barrier ready
execute/client: |
  troupe-ctl barrier ready
  test "$(troupe-ctl kv get secret)" = 42
  echo "server is at $(troupe-ctl addr server)"
`,
  });
  const r = await troupeAsyncResult(["run", "--project", dir, "-v"], account.moto.env);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Successful tasks: 2/, r.stdout);

  const all = await instances();
  assert.equal(all.length, 2, `two workers, two instances: ${all.map((i) => i.InstanceId).join(" ")}`);
  for (const i of all) {
    assert.equal(i.State?.Name, "terminated", `${i.InstanceId} is ${i.State?.Name}`);
    assert.equal(i.InstanceType, "t3.small");
    assert.equal(i.SubnetId, account.subnet);
    const tags = tagsOf(i);
    assert.equal(tags["troupe"], "1");
    assert.match(tags["troupe-run"] ?? "", /^[a-z0-9_-]+$/);
    assert.ok(tags["troupe-owner"]);
    // One format for every backend: seconds since the epoch, here 90 minutes from the start.
    const halt = Number(tags["troupe-halt-at"]) * 1000;
    const launched = i.LaunchTime!.getTime();
    assert.ok(halt - launched > 85 * 60_000 && halt - launched < 95 * 60_000, `halt-at ${tags["troupe-halt-at"]}`);
    assert.match(tags["Name"] ?? "", /^trusty-\d$/);
  }
  // The instances' own guarantee: their user-data asked for a power-off at the halt time.
  const calls = await Promise.all(all.map((i) => account.standIn.shutdownCalls(i.InstanceId!)));
  assert.deepEqual(account.standIn.errors, []);
  for (const c of calls) assert.match(c, /shutdown -h \+90 /, c);

  const runJson = JSON.parse(readFileSync(join(dir, ".troupe", "latest", "run.json"), "utf8")) as {
    jobs: { name: string; status: string }[];
  };
  assert.ok(
    runJson.jobs.some((j) => j.name.startsWith("ec2:trusty:checks/pair") && j.status === "passed"),
    JSON.stringify(runJson.jobs),
  );
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  test(`${signal} while jobs run on ec2 instances: troupe exits 130 and terminates every instance of the run`, async () => {
    const dir = project({
      "troupe.yaml": TROUPE_YAML(account.subnet),
      "checks/wait/task.yaml": `summary: waits until interrupted
execute: |
  exec sleep 3600
`,
      "checks/wait2/task.yaml": `summary: waits until interrupted
execute: |
  exec sleep 3600
`,
    });
    const known = new Set((await instances()).map((i) => i.InstanceId));
    const child = troupeAsync(["run", "--project", dir, "-v"], { env: { ...account.moto.env } });
    let out = "";
    let executing = 0;
    const started = new Promise<void>((resolve) => {
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString("utf8");
        executing = (out.match(/Executing ec2:trusty:checks\/wait/g) ?? []).length;
        if (executing === 2) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await Promise.race([started, exited]);
    assert.equal(executing, 2, out);
    child.kill(signal);
    const code = await exited;
    assert.equal(code, 130, out);
    const mine = (await instances()).filter((i) => !known.has(i.InstanceId));
    assert.equal(mine.length, 2);
    assert.deepEqual(
      mine.filter((i) => i.State?.Name !== "terminated").map((i) => i.InstanceId),
      [],
    );
  });
}

test("partial: use goes on with the instances EC2 gave when it gave fewer than asked (moto makes MinCount)", async () => {
  const dir = project({
    "troupe.yaml": TROUPE_YAML(account.subnet, "    partial: use\n").replace("workers: 2", "workers: 3"),
    "checks/a/task.yaml": "summary: a\nexecute: echo a\n",
    "checks/b/task.yaml": "summary: b\nexecute: echo b\n",
    "checks/c/task.yaml": "summary: c\nexecute: echo c\n",
  });
  const known = new Set((await instances()).map((i) => i.InstanceId));
  const r = await troupeAsyncResult(["run", "--project", dir], account.moto.env);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /ec2: asked for 3 machines of trusty, 1 came up; going on with those \(partial: use\)/);
  assert.match(r.stdout, /Successful tasks: 3/);
  const mine = (await instances()).filter((i) => !known.has(i.InstanceId));
  assert.equal(mine.length, 1);
  assert.equal(mine[0]!.State?.Name, "terminated");
});

test("spot, security groups and a key pair of the user's reach EC2 as asked (storage is accepted), and troupe logs in with that key", async () => {
  const c = motoClient(account.moto);
  let group: string;
  try {
    const sub = await c.send(new DescribeSubnetsCommand({ SubnetIds: [account.subnet] }));
    const sg = await c.send(new CreateSecurityGroupCommand({ GroupName: "ec2t-ssh", Description: "ssh", VpcId: sub.Subnets![0]!.VpcId! }));
    group = sg.GroupId!;
    // The user's key pair: here the lab's key, which lab hosts take.
    await c.send(new ImportKeyPairCommand({ KeyName: "ec2t-mine", PublicKeyMaterial: readFileSync("/run/troupe-lab/id_ed25519.pub") }));
  } finally {
    c.destroy();
  }
  const dir = project({
    "troupe.yaml": TROUPE_YAML(
      account.subnet,
      `    spot: true\n    storage: 20G\n    security-groups: [${group}]\n    key-name: ec2t-mine\n`,
    )
      .replace("workers: 2", "workers: 1")
      .replace("          workers: 1", "          workers: 1\n          identity-file: /run/troupe-lab/id_ed25519"),
    "checks/a/task.yaml": 'summary: a\nexecute: test "$(id -u)" = 0\n',
  });
  const known = new Set((await instances()).map((i) => i.InstanceId));
  const r = await troupeAsyncResult(["run", "--project", dir], account.moto.env);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const mine = (await instances()).filter((i) => !known.has(i.InstanceId));
  assert.equal(mine.length, 1);
  const i = mine[0]!;
  assert.equal(i.InstanceLifecycle, "spot");
  assert.equal(i.KeyName, "ec2t-mine");
  assert.deepEqual(
    (i.SecurityGroups ?? []).map((g) => g.GroupId),
    [group],
  );
});
