// A Spread project with `type: google` runs its suite and a multi-host job
// on instances the fake Compute API hands out, lab hosts standing in for the
// VMs: Spread's keys as they are, the image found by Spread's rules, the
// instance labelled and given a lifetime GCE enforces, root reached over SSH
// with the session's password the startup script set, and every instance
// deleted at the end.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { project } from "../cli/helpers.js";
import type { FakeCompute } from "./fake-compute.js";
import { PROJECT, spreadYaml, startFake, troupe, userEnv, writeKey, ZONE } from "./helpers.js";

let fake: FakeCompute;
const made: string[] = [];
before(async () => {
  fake = await startFake();
});
after(async () => {
  await fake.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

interface InsertBody {
  name: string;
  machineType: string;
  labels: Record<string, string>;
  scheduling?: { maxRunDuration?: { seconds: string }; instanceTerminationAction?: string };
  disks: { initializeParams: { sourceImage: string; diskSizeGb?: string } }[];
  metadata: { items: { key: string; value: string }[] };
}

function inserts(since: number): InsertBody[] {
  return fake.seen.slice(since).flatMap((r) => (r.method === "POST" && /\/instances$/.test(r.path) ? [r.body as InsertBody] : []));
}

test("a Spread project's suite runs on google instances, which are labelled, bounded in time and deleted", async () => {
  const dir = project({
    "spread.yaml": spreadYaml(`
type: google
key: "$(HOST: echo $GCE_IT_KEY)"
location: ${PROJECT}/${ZONE}
halt-timeout: 1h
plan: e2-standard-2
systems:
  - ubuntu-24.04-64:
      workers: 2
      storage: 20G
`),
    "checks/who/task.yaml": 'summary: who and where\nexecute: |\n  test "$(id -u)" = 0\n  echo "on $(hostname)"\n',
    "checks/files/task.yaml": "summary: the project is here\nexecute: test -f /root/gce-it/checks/files/task.yaml\n",
  });
  made.push(dir);
  const key = writeKey(fake, dir);
  const since = fake.seen.length;
  const r = await troupe(["run", "-v"], { cwd: dir, env: await userEnv(fake, { GCE_IT_KEY: key }) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /Successful tasks: 2/);

  const bodies = inserts(since);
  assert.equal(bodies.length, 2, "one instance per worker");
  for (const b of bodies) {
    assert.match(b.name, /^[a-z]{3}\d{6}-\d{6}$/, "Spread's instance names");
    assert.equal(b.machineType, `zones/${ZONE}/machineTypes/e2-standard-2`);
    // ubuntu-24.04-64 matches the description's terms; the family is what boots (GCE's newest).
    assert.equal(b.disks[0]!.initializeParams.sourceImage, "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64");
    assert.equal(b.disks[0]!.initializeParams.diskSizeGb, "20");
    assert.deepEqual(b.scheduling, { maxRunDuration: { seconds: "3600" }, instanceTerminationAction: "DELETE" });
    assert.equal(b.labels["spread"], "true");
    assert.equal(b.labels["reuse"], "false");
    assert.equal(b.labels["troupe"], "1");
    assert.match(b.labels["troupe-run"] ?? "", /\S/);
    assert.match(b.labels["troupe-machine"] ?? "", /^[0-9a-f]{32}$/, "the machine troupe ran on, for gc");
    const halt = Number(b.labels["troupe-halt-at"]) * 1000;
    assert.ok(Math.abs(halt - (Date.now() + 3600_000)) < 600_000, `halt time about an hour from now: ${b.labels["troupe-halt-at"]}`);
    assert.ok(b.metadata.items.some((i) => i.key === "startup-script" && i.value.includes("chpasswd")));
  }
  // The password left the metadata once the machine was up.
  const dropped = fake.seen.slice(since).filter((s) => s.path.endsWith("/setMetadata"));
  assert.equal(dropped.length, 2);
  for (const d of dropped) assert.ok(!(d.body as { items: { key: string }[] }).items.some((i) => i.key === "startup-script"));
  // Each host is the instance: its hostname is the instance's name.
  const names = bodies.map((b) => b.name);
  const on = [...(r.stdout + r.stderr).matchAll(/^on ([a-z]{3}\d{6}-\d{6})$/gm)].map((m) => m[1]);
  assert.equal(on.length, 1, r.stdout);
  assert.ok(names.includes(on[0]!), `${on[0]} is one of ${names.join(", ")}`);
  assert.deepEqual([...fake.instances.keys()], [], "every instance deleted");
});

test("a multi-host job: a server and a client on two instances reach each other at their addresses", async () => {
  const dir = project({
    "spread.yaml": spreadYaml(`
type: google
key: key.json
location: ${PROJECT}/${ZONE}
systems:
  - ubuntu-22.04:
      workers: 2
`),
    "checks/pair/task.yaml": [
      "summary: a server and a client",
      "hosts:",
      "  server: {}",
      "  client: {}",
      "execute/server: |",
      "  mkdir -p www && hostname > www/name",
      "  busybox httpd -f -p 8080 -h www &",
      "  until busybox wget -qO /dev/null http://127.0.0.1:8080/name; do sleep 0.1; done",
      "  troupe-ctl barrier ready",
      "  troupe-ctl barrier done",
      "  kill $!",
      "execute/client: |",
      "  troupe-ctl barrier ready",
      '  echo "server said $(busybox wget -qO- "http://$(troupe-ctl addr server):8080/name")"',
      "  troupe-ctl barrier done",
      "",
    ].join("\n"),
  });
  made.push(dir);
  writeKey(fake, dir);
  const since = fake.seen.length;
  const r = await troupe(["run", "-v"], { cwd: dir, env: await userEnv(fake) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const bodies = inserts(since);
  assert.equal(bodies.length, 2);
  // `ubuntu-22.04` matches by terms too; the image is Ubuntu's family for it.
  for (const b of bodies)
    assert.equal(b.disks[0]!.initializeParams.sourceImage, "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts");
  const said = /server said ([a-z]{3}\d{6}-\d{6})/.exec(r.stdout + r.stderr)?.[1];
  assert.ok(said && bodies.some((b) => b.name === said), `the client fetched the server instance's name: ${said ?? "nothing"}`);
  assert.deepEqual([...fake.instances.keys()], []);
});

test("credentials from the metadata server (GCE_METADATA_HOST) when there is no key; a serial port not ready at first", async () => {
  const dir = project({
    "spread.yaml": spreadYaml(`
location: ${PROJECT}/${ZONE}
systems:
  - ubuntu-2404-lts-amd64
`),
    "checks/hello/task.yaml": "summary: hello\nexecute: echo hello\n",
  });
  made.push(dir);
  const since = fake.seen.length;
  // And a serial port that is not ready at first.
  fake.serialNotReady = 2;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake, { GCE_METADATA_HOST: fake.metadataHost }) });
  assert.equal(fake.serialNotReady, 0);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // A family in the backend's own project is not there; Ubuntu's project has it.
  assert.equal(
    inserts(since)[0]?.disks[0]!.initializeParams.sourceImage,
    "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
  );
  assert.deepEqual([...fake.instances.keys()], []);
});

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  test(`${signal} in the middle of a job: exit status 130, every instance deleted`, async () => {
    const dir = project({
      "spread.yaml": spreadYaml(`
key: key.json
location: ${PROJECT}/${ZONE}
systems:
  - ubuntu-22.04:
      workers: 2
`),
      "checks/long/task.yaml": "summary: long\nexecute: |\n  echo started\n  sleep 600\n",
      "checks/other/task.yaml": "summary: other\nexecute: |\n  echo started\n  sleep 600\n",
    });
    made.push(dir);
    writeKey(fake, dir);
    const r = await troupe(["run", "-v"], { cwd: dir, env: await userEnv(fake), when: { output: /Executing google:/, signal } });
    assert.equal(r.status, 130, r.stdout + r.stderr);
    assert.deepEqual([...fake.instances.keys()], [], r.stdout + r.stderr);
  });
}

test("SIGTERM while instances boot: exit status 130, every instance deleted", async () => {
  const dir = project({
    "spread.yaml": spreadYaml(`
key: key.json
location: ${PROJECT}/${ZONE}
systems:
  - ubuntu-22.04:
      workers: 2
`),
    "checks/a/task.yaml": "summary: a\nexecute: echo a\n",
    "checks/b/task.yaml": "summary: b\nexecute: echo b\n",
  });
  made.push(dir);
  writeKey(fake, dir);
  const r = await troupe(["run", "-v"], {
    cwd: dir,
    env: await userEnv(fake),
    when: { output: /is instance [a-z]{3}\d{6}-\d{6}/, signal: "SIGTERM" },
  });
  assert.equal(r.status, 130, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /Executing/);
  assert.deepEqual([...fake.instances.keys()], [], r.stdout + r.stderr);
});
