// What stops a google run: no credentials, a key file that is missing, not
// JSON or not the account's, an API that does not answer, a project the
// account may not use, the project's quota. Each is one line with what
// Google said and what to do, exit status 3, and no instance left.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { project } from "../cli/helpers.js";
import { keyFileJson, newServiceAccount } from "./fake-auth.js";
import type { FakeCompute } from "./fake-compute.js";
import { closedPort, PROJECT, spreadYaml, startFake, troupe, userEnv, writeKey, ZONE, type Result } from "./helpers.js";

let fake: FakeCompute;
const made: string[] = [];
before(async () => {
  fake = await startFake();
});
after(async () => {
  await fake.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A one-task project on the google backend; `key` and `location` as given. */
function hello(lines: string, workers = 1): string {
  const dir = project({
    "spread.yaml": spreadYaml(`${lines}\nsystems:\n  - ubuntu-22.04-64:\n      workers: ${workers}\n`),
    "checks/hello/task.yaml": "summary: hello\nexecute: echo hello\n",
  });
  made.push(dir);
  return dir;
}

function refused(r: Result, what: RegExp, inserts: number): void {
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const errors = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(errors.length, 1, `one line:\n${r.stderr}`);
  assert.match(errors[0]!, what);
  assert.doesNotMatch(r.stdout, /Allocating/);
  assert.equal(fake.seen.slice(inserts).filter((s) => s.method === "POST" && s.path.endsWith("/instances")).length, 0);
  assert.deepEqual([...fake.instances.keys()], []);
}

test("no credentials anywhere: say where troupe looked and what to give", async () => {
  const dir = hello(`location: ${PROJECT}/${ZONE}`);
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  refused(
    r,
    /^error: google: no credentials: the backend has no key, GOOGLE_APPLICATION_CREDENTIALS is not set, there are no gcloud application default credentials, and the metadata server at 127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\); give key: the path of a service-account key file$/,
    since,
  );
});

test("a key file that is not there: its path", async () => {
  const dir = hello(`key: secrets/gce.json\nlocation: ${PROJECT}/${ZONE}`);
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  refused(r, new RegExp(`^error: google: cannot read the key file ${join(dir, "secrets/gce.json")} \\(from key\\): no such file; `), since);
});

test("a key file that is not JSON: its path", async () => {
  const dir = hello(`location: ${PROJECT}/${ZONE}`);
  const key = join(dir, "key.json");
  writeFileSync(key, "-----BEGIN PRIVATE KEY-----\n");
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake, { GOOGLE_APPLICATION_CREDENTIALS: key }) });
  refused(r, new RegExp(`^error: google: the key file ${key} is not JSON \\(`), since);
});

test("a key whose signature the token endpoint refuses: Google's reason", async () => {
  const dir = hello(`key: other.json\nlocation: ${PROJECT}/${ZONE}`);
  // The account's name with another private key: what a deleted and re-made key looks like.
  const impostor = { ...newServiceAccount(PROJECT), email: fake.account.email, keyId: fake.account.keyId };
  writeFileSync(join(dir, "other.json"), keyFileJson(impostor, PROJECT, fake.tokenUrl));
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  refused(
    r,
    new RegExp(
      `^error: google: .*${fake.tokenUrl.replace(/[.]/g, "\\.")} refused the credentials of the key file .*other\\.json \\(${fake.account.email.replace(/[.]/g, "\\.")}\\) \\(HTTP 400, invalid_grant: Invalid JWT Signature\\.\\)`,
    ),
    since,
  );
});

test("the Compute API does not answer: where troupe looked", async () => {
  const dir = hello(`key: key.json\nlocation: ${PROJECT}/${ZONE}`);
  writeKey(fake, dir);
  const nowhere = `http://127.0.0.1:${await closedPort()}/compute/v1/`;
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake, { CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: nowhere }) });
  refused(r, new RegExp(`^error: google: cannot reach the Compute API at ${nowhere.replace(/[.]/g, "\\.")}: ECONNREFUSED$`), since);
});

test("a project the account may not use: permission denied, with Google's reason", async () => {
  const dir = hello(`key: key.json\nlocation: someone-elses/${ZONE}`);
  writeKey(fake, dir);
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  refused(
    r,
    /^error: google: cannot use project someone-elses with the key file .*key\.json \(troupe-test@troupe-fake-1\.iam\.gserviceaccount\.com\): forbidden: required 'compute\.instances\.list' permission for 'projects\/someone-elses'; give the credentials this permission$/,
    since,
  );
});

test("a zone the project does not have", async () => {
  const dir = hello(`key: key.json\nlocation: ${PROJECT}/us-west9-z`);
  writeKey(fake, dir);
  const since = fake.seen.length;
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  refused(
    r,
    /^error: google: project troupe-fake-1 has no zone us-west9-z \(the resource 'projects\/troupe-fake-1\/zones\/us-west9-z' was not found\)$/,
    since,
  );
});

test("location not in Spread's PROJECT/ZONE form: the file's line and column", async () => {
  const dir = hello(`key: key.json\nlocation: ${ZONE}`);
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /^spread\.yaml:6:5: backends\.google\.location: the google backend needs location: <google project>\/<compute zone>, e\.g\. location: my-project\/us-east1-b \(not "us-east1-b"\)$/m,
  );
});

test("out of quota: Google's reason in one line, exit status 3, no instance left", async () => {
  const tight = await startFake({ instanceQuota: 0 });
  try {
    const dir = hello(`key: key.json\nlocation: ${PROJECT}/${ZONE}`, 2);
    writeKey(tight, dir);
    const r = await troupe(["run"], { cwd: dir, env: await userEnv(tight) });
    assert.equal(r.status, 3, r.stdout + r.stderr);
    const said = r.stdout.split("\n").filter((l) => /Cannot allocate/.test(l));
    assert.equal(said.length, 1, r.stdout);
    assert.match(
      said[0]!,
      /Cannot allocate google:ubuntu-22\.04-64: google: cannot create 1 machine of ubuntu-22\.04-64: QUOTA_EXCEEDED: quota 'INSTANCES' exceeded\. Limit: 0\.0 in region us-east1\.; ask the provider for a higher limit, or lower max-hosts$/,
    );
    assert.deepEqual([...tight.instances.keys()], []);
  } finally {
    await tight.close();
  }
});

test("max-hosts, the project's cost guard: a run that needs more instances stops, and none is left", async () => {
  const dir = hello(`key: key.json\nlocation: ${PROJECT}/${ZONE}\nmax-hosts: 1`, 2);
  writeFileSync(join(dir, "checks/hello/task.yaml"), "summary: a pair\nhosts:\n  a: {}\n  b: {}\nexecute: echo hi\n");
  writeKey(fake, dir);
  const r = await troupe(["run"], { cwd: dir, env: await userEnv(fake) });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(
    r.stdout + r.stderr,
    /google: the run needs more than max-hosts \(1\) machines at once; raise max-hosts in the project \(or --max-hosts\), or ask for fewer hosts/,
  );
  assert.deepEqual([...fake.instances.keys()], []);
});
