// What an ec2 backend says before any machine is asked for, when it cannot
// work: no credentials, an unknown region, an endpoint nobody answers on,
// an image that does not exist. One line each with what to do, exit 3, and
// no instance made.

import { test } from "node:test";
import assert from "node:assert/strict";
import { project } from "../cli/helpers.js";
import { troupeAsyncResult } from "../cloud/moto.js";
import { useMoto } from "../cloud/moto-account.js";
import { freePort } from "../../../src/util/free-port.js";

const account = useMoto();

function ec2Project(backendKeys: string, image = "ami-1e749f67"): string {
  return project({
    "troupe.yaml": `project: ec2t-check
backends:
  ec2:
${backendKeys}    systems:
      - trusty:
          image: ${image}
suites:
  checks/:
    summary: never runs
`,
    "checks/a/task.yaml": "summary: a\nexecute: 'true'\n",
  });
}

async function instanceCount(): Promise<number> {
  return (await account.instances()).length;
}

/** The lines troupe printed to stderr about the backend (without Spread's timestamps). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /ec2/.test(l));
}

test("no credentials: one line that says so, exit 3", async () => {
  const dir = ec2Project("    location: eu-west-1\n");
  const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...env } = account.moto.env;
  const r = await troupeAsyncResult(["run", "--project", dir], { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /ec2: cannot reach the EC2 API: CredentialsProviderError: Could not load credentials from any providers; set up credentials/,
  );
  assert.equal(await instanceCount(), 0);
});

test("an unknown region: one line naming it, exit 3", async () => {
  const dir = ec2Project("    location: xx-nowhere-7\n");
  const r = await troupeAsyncResult(["run", "--project", dir], account.moto.env);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /ec2: ec2:trusty: unknown region xx-nowhere-7 \(EC2 has: .*eu-west-1/);
});

test("an endpoint nobody answers on: one line, exit 3", async () => {
  const dir = ec2Project("    location: eu-west-1\n");
  const port = await freePort();
  const r = await troupeAsyncResult(["run", "--project", dir], { ...account.moto.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(`ec2: cannot reach the EC2 API: ECONNREFUSED: .*127\\.0\\.0\\.1:${port}; check the network and the endpoint`),
  );
});

test("an image that does not exist: one line naming it and its owners, exit 3", async () => {
  const dir = ec2Project("    location: eu-west-1\n", "no-such-image-*");
  const r = await troupeAsyncResult(["run", "--project", dir], account.moto.env);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /ec2: ec2:trusty: no image named "no-such-image-\*" owned by self, amazon in eu-west-1; check the name, or set image-owners/,
  );
  assert.equal(await instanceCount(), 0);
});

test("a bad key in the project: its file, line and column", async () => {
  const dir = ec2Project("    location: eu-west-1\n    partial: sometimes\n");
  const r = await troupeAsyncResult(["run", "--project", dir], account.moto.env);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /troupe\.yaml:5:5: backends\.ec2\.partial: is use .* or fail .*, not "sometimes"/);
});

test("--max-hosts under what the run needs: one line saying what to do, exit 3, no instance made", async () => {
  const dir = project({
    "troupe.yaml": `project: ec2t-max
backends:
  ec2:
    location: eu-west-1
    max-hosts: 10
    systems:
      - trusty:
          image: ami-1e749f67
          workers: 3
suites:
  checks/:
    summary: three at once
`,
    "checks/a/task.yaml": "summary: a\nexecute: 'true'\n",
    "checks/b/task.yaml": "summary: b\nexecute: 'true'\n",
    "checks/c/task.yaml": "summary: c\nexecute: 'true'\n",
  });
  const before = await instanceCount();
  const r = await troupeAsyncResult(["run", "--project", dir, "--max-hosts", "2"], account.moto.env);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(
    r.stdout + r.stderr,
    /ec2: the run needs more than max-hosts \(2\) machines at once; raise max-hosts in the project \(or --max-hosts\), or ask for fewer hosts/,
  );
  assert.equal(await instanceCount(), before);
  const bad = await troupeAsyncResult(["run", "--project", dir, "--max-hours", "soon"], account.moto.env);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--max-hours takes a positive number of hours such as 2 or 0\.5, not "soon"/);
});
