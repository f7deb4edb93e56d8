// The docker backend through the CLI, on a real engine (share/engines/docker.sh):
// the example's suite and multi-host job, artifacts, transport: ssh, and the
// errors that stop a run before any job.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { troupe } from "../cli/helpers.js";
import { containersOf, exampleProject } from "./helpers.js";

test("the docker example runs its suite, a multi-host job and artifacts on 3 containers, and leaves none", async () => {
  const dir = await exampleProject();
  const art = join(dir, "art");
  const r = troupe(["run", "-v", "--artifacts", art], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Successful tasks: 3/);
  const hosts = new Set([...r.stdout.matchAll(/Allocated docker:debian-12 \((debian-12-\d)\) at 172\.\d+\.\d+\.\d+/g)].map((m) => m[1]));
  assert.equal(hosts.size, 3);
  // The clients learnt the server's name from the kv store and its address from troupe-ctl.
  const seen = [...r.stdout.matchAll(/^(debian-12-\d) sees server (debian-12-\d) at (\S+)$/gm)];
  assert.equal(seen.length, 2, r.stdout);
  assert.ok(seen.every((m) => m[2] === seen[0]![2] && m[1] !== m[2]));
  const report = join(art, "docker/debian-12/checks/artifacts");
  assert.match(readFileSync(join(report, "report.txt"), "utf8"), /^made on debian-12-\d\n$/);
  assert.equal(readFileSync(join(report, "logs/one.log"), "utf8"), "a log line\n");
  assert.deepEqual(await containersOf(r.pid), []);
});

test("transport: ssh reaches the container's sshd; a failing task fails the run", async () => {
  const dir = await exampleProject((y) =>
    y.replace("    systems:\n", "    transport: ssh\n    systems:\n").replace("workers: 3", "workers: 1"),
  );
  writeFileSync(
    join(dir, "checks/identity/task.yaml"),
    'summary: over ssh\nexecute: |\n  echo "via ${SSH_CONNECTION:-exec}"\n  echo "$VARIANT failed on purpose"\n  exit 1\nenvironment:\n  VARIANT: this\n',
  );
  const r = troupe(["run", "-v", "checks/identity"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^via 172\.\d+\.\d+\.\d+ \d+ 172\.\d+\.\d+\.\d+ 22$/m);
  assert.match(r.stdout, /Failed tasks: 1/);
  assert.match(r.stdout, /this failed on purpose/);
  assert.deepEqual(await containersOf(r.pid), []);
});

test("an image the engine lacks: one line saying how to get it, exit 3, no job run", async () => {
  const dir = await exampleProject((y) => y.replace("image: troupe-test-debian:latest", "image: troupe-no-such-image"));
  const r = troupe(["run"], { cwd: dir });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    "error: docker: no image troupe-no-such-image at " +
      `${process.env["DOCKER_HOST"] ?? "unix:///run/troupe-engines/docker.sock"}: build it with \`troupe image build troupe-no-such-image\` or \`docker pull troupe-no-such-image\``,
  ]);
  assert.doesNotMatch(r.stdout, /Allocating|Executing/);
});

test("no engine at DOCKER_HOST: one line saying how to start one, exit 3", async () => {
  const dir = await exampleProject();
  const sock = join(dir, "no-engine.sock");
  assert.ok(!existsSync(sock));
  const r = troupe(["run"], { cwd: dir, env: { DOCKER_HOST: `unix://${sock}` } });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    `error: docker: no Docker engine answers at unix://${sock}: start one (on a machine without a service manager: share/engines/start.sh docker), or point DOCKER_HOST at it`,
  ]);
});

test("privileged on a machine without CAP_SYS_RESOURCE: the engine's refusal and what to do instead", async () => {
  const dir = await exampleProject((y) =>
    y.replace("    systems:\n", "    privileged: true\n    systems:\n").replace("workers: 3", "workers: 1"),
  );
  const r = troupe(["run", "checks/identity"], { cwd: dir });
  if (r.status === 0) {
    // This machine can run privileged containers: nothing to explain.
    assert.match(r.stdout, /Successful tasks: 1/);
  } else {
    assert.match(r.stdout, /Cannot allocate docker:debian-12: .*list the capabilities you need under `capabilities:` instead/);
  }
  assert.deepEqual(await containersOf(r.pid), []);
});
