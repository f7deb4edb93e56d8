// REBOOT inside a multi-host job, through the CLI: on lab hosts (whose
// backend reboots), the host comes back, its script runs again with
// SPREAD_REBOOT set, and its sync session resumes: the other host's wait is
// not poisoned, the store and messages are kept, and the barrier it passed
// before rebooting is not waited for again. A host that does not come back
// fails the job, named. On local processes (no reboot) the existing error.
// The lab tests need root, Linux and openssh-server (.ci/lab-deps.sh).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, REPO, troupe } from "./helpers.js";

const LAB_PROJECT =
  "project: mhreboot\npath: /srv/mhreboot\nbackends:\n  lab:\n    systems:\n      - debian-lab:\n          workers: 2\nsuites:\n  s/:\n    summary: s\n";

interface Job {
  name: string;
  status: string;
  reason?: string;
  kv?: Record<string, string>;
  hosts: { as?: string; status: string; exitCode: number | null }[];
}

/** The project's one run's jobs (run.json). */
function jobsOf(dir: string): Job[] {
  const runs = join(dir, ".troupe", "runs");
  const [id] = readdirSync(runs);
  return (JSON.parse(readFileSync(join(runs, id!, "run.json"), "utf8")) as { jobs: Job[] }).jobs;
}

test("a host of a multi-host job REBOOTs on lab: it comes back, its sync session resumes, and both hosts pass", () => {
  const tmp = privateTmp();
  const dir = project({
    // troupe's default path, under /tmp, which a lab host's reboot empties: the project is sent again.
    "troupe.yaml": LAB_PROJECT.replace("path: /srv/mhreboot\n", ""),
    "s/pair/task.yaml": `summary: one host reboots in the middle of the job
hosts:
  rebooter: {}
  peer: {}
execute/rebooter: |
  if [ "$SPREAD_REBOOT" = 0 ]; then
    troupe-ctl barrier before
    troupe-ctl kv set state "set before the reboot"
    troupe-ctl wait peer-waits
    echo "rebooter reboots"
    REBOOT
  fi
  echo "rebooter is back: SPREAD_REBOOT=$SPREAD_REBOOT TROUPE_REBOOT=$TROUPE_REBOOT in $PWD, with $(cat task.yaml | head -1)"
  # Passed before the reboot: answered at once (peer is at 'after' by now).
  troupe-ctl barrier before
  troupe-ctl barrier after
  echo "rebooter reads: $(troupe-ctl kv get state); peer says: $(troupe-ctl wait hello)"
execute/peer: |
  troupe-ctl barrier before
  troupe-ctl send hello note=from-peer
  troupe-ctl send peer-waits
  troupe-ctl barrier after
  echo "peer reads: $(troupe-ctl kv get state)"
`,
  });
  try {
    const r = troupe(["run", "-v"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const machine = /Executing \S+ \((\S+) as rebooter\)/.exec(r.stdout)?.[1];
    assert.ok(machine, r.stdout);
    // The job's output says which host rebooted, and that it came back.
    assert.match(r.stdout, new RegExp(`Rebooting on ${machine} \\(lab:debian-lab:s/pair, as rebooter\\) as requested\\.\\.\\.`));
    assert.match(r.stdout, new RegExp(`lab:debian-lab:s/pair: rebooter \\(${machine}\\) rebooted; its sync session resumed`));
    assert.match(r.stdout, /rebooter reboots/);
    assert.match(
      r.stdout,
      /rebooter is back: SPREAD_REBOOT=1 TROUPE_REBOOT=1 in \/tmp\/troupe\/mhreboot\/s\/pair, with summary: one host reboots/,
    );
    assert.match(r.stdout, new RegExp(`${machine} lost /tmp/troupe/mhreboot in its reboot; sending the project again`));
    assert.match(r.stdout, /rebooter reads: set before the reboot; peer says: note=from-peer/);
    assert.match(r.stdout, /peer reads: set before the reboot/);
    assert.doesNotMatch(r.stdout, /poisoned/);
    const [job] = jobsOf(dir);
    assert.equal(job!.status, "passed");
    assert.equal(job!.kv?.["state"], "set before the reboot");
    assert.deepEqual(job!.hosts.map((h) => [h.as, h.status, h.exitCode]).sort(), [
      ["peer", "passed", 0],
      ["rebooter", "passed", 0],
    ]);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("a host that does not come back from its REBOOT fails the job, named; the host waiting for it is poisoned, not left waiting", () => {
  const tmp = privateTmp();
  const dir = project({
    "troupe.yaml": LAB_PROJECT,
    "s/gone/task.yaml": `summary: one host reboots into an sshd that cannot start
hosts:
  rebooter: {}
  peer: {}
execute/rebooter: |
  troupe-ctl barrier before
  # The lab host's sshd is its first process: with a bad configuration, the host does not boot.
  echo "NoSuchOption yes" >> /etc/troupe-lab/sshd_config
  REBOOT
execute/peer: |
  troupe-ctl barrier before
  troupe-ctl barrier after
  echo "never here"
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir, env: { TMPDIR: tmp } });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const machine = /Executing \S+ \((\S+) as rebooter\)/.exec(r.stdout)?.[1];
    assert.ok(machine, r.stdout);
    assert.match(
      r.stdout,
      /troupe-ctl: barrier after: poisoned: host rebooter failed: did not come back from its reboot: lab: host \S+ did not boot/,
    );
    assert.doesNotMatch(r.stdout, /never here\n/);
    const [job] = jobsOf(dir);
    assert.equal(job!.status, "failed");
    assert.match(job!.reason ?? "", new RegExp(`^execute failed on rebooter: cannot reboot ${machine}: lab: host \\S+ did not boot`));
    assert.match(r.stdout, /Failed tasks: 1\n\s+- lab:debian-lab:s\/gone \(execute failed on rebooter: cannot reboot /);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("REBOOT in a multi-host job on local processes: the existing error, and the host waiting for it is poisoned at once", () => {
  const dir = project({
    "troupe.yaml":
      "project: localreboot\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 2\nsuites:\n  s/:\n    summary: s\n",
    "s/t/task.yaml": `summary: local processes cannot reboot
hosts:
  rebooter: {}
  peer: {}
execute/rebooter: |
  troupe-ctl barrier before
  REBOOT
execute/peer: |
  troupe-ctl barrier before
  troupe-ctl barrier after
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /Failed tasks: 1\n\s+- local:sys:s\/t \(execute failed on rebooter: REBOOT is not supported on the local backend\)\n/,
    );
    assert.match(
      r.stdout,
      /troupe-ctl: barrier after: poisoned: host rebooter failed: execute task failed on rebooter: REBOOT is not supported on the local backend/,
    );
    assert.equal(jobsOf(dir)[0]!.reason, "execute failed on rebooter: REBOOT is not supported on the local backend");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the documented example, examples/multihost cluster/reboot, passes on lab hosts", () => {
  const example = join(REPO, "examples/multihost");
  const tmp = privateTmp();
  try {
    const lab = troupe(["run", "--project", example, "--backend-as", "local=lab", "-v", "cluster/reboot"], { env: { TMPDIR: tmp } });
    assert.equal(lab.status, 0, lab.stdout + lab.stderr);
    assert.match(lab.stdout, /Rebooting on \S+ \(local:debian:cluster\/reboot, as node\) as requested\.\.\./);
    assert.match(lab.stdout, /local:debian:cluster\/reboot: node \(\S+\) rebooted; its sync session resumed/);
    assert.match(lab.stdout, /^node, back: before the reboot$/m);
    assert.match(lab.stdout, /Successful tasks: 1\n/);
    assert.deepEqual(labLeftovers(lab.pid, tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
