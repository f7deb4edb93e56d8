// The lxd backend through the CLI, on a real LXD: a Spread project runs a
// suite in containers (as root, the project at `path`, the system's
// variables), root's password login with -pass, a REBOOT in a task, a job
// across two containers synchronised by troupe-ctl, and nothing of the run
// is left in LXD afterwards.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { project, troupe } from "../cli/helpers.js";
import { TEST_IMAGE } from "./image.js";
import { containersOf, spreadYaml } from "./helpers.js";

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test("a Spread project on lxd: a suite, -pass, REBOOT and a two-host job in containers, nothing left", () => {
  const dir = project({
    "spread.yaml": spreadYaml([]).replace(
      "    systems:\n",
      `    systems:\n      - debian-12:\n          image: ${TEST_IMAGE}\n          workers: 2\n`,
    ),
    "checks/hello/task.yaml": [
      "summary: where it runs",
      "execute: |",
      '  echo "WORKS $SPREAD_SYSTEM on $(hostname) as $(id -u) in $PWD"',
      "  test -f /home/test/checks/hello/task.yaml",
    ].join("\n"),
    "checks/reboot/task.yaml": [
      "summary: REBOOT keeps the disk and comes back",
      "execute: |",
      '  if [ "$SPREAD_REBOOT" = 0 ]; then',
      "    echo before > /root/reboot-mark",
      "    cat /proc/1/stat | cut -d' ' -f22 > /root/init-start",
      "    REBOOT",
      "  fi",
      '  echo "REBOOTED $SPREAD_REBOOT $(cat /root/reboot-mark)"',
      "  # A new init: the container did restart.",
      '  [ "$(cut -d\' \' -f22 /proc/1/stat)" != "$(cat /root/init-start)" ]',
    ].join("\n"),
    "checks/login/task.yaml": [
      "summary: root logs in over ssh with the session's password (-pass), as with Spread",
      "execute: |",
      "  printf '#!/bin/sh\\necho s3cret-pass\\n' > /tmp/askpass && chmod +x /tmp/askpass",
      "  SSH_ASKPASS=/tmp/askpass SSH_ASKPASS_REQUIRE=force setsid ssh -F /dev/null -o StrictHostKeyChecking=no \\",
      "    -o PubkeyAuthentication=no -o PreferredAuthentications=password root@127.0.0.1 echo LOGGED IN AS '$(id -un)' </dev/null",
    ].join("\n"),
    "checks/pair/task.yaml": [
      "summary: two containers meet at a barrier and share a value",
      "hosts:",
      "  server: {}",
      "  client: {}",
      "execute/server: |",
      '  troupe-ctl kv set secret "from-$(hostname)"',
      "  troupe-ctl barrier ready",
      "  troupe-ctl barrier done",
      "execute/client: |",
      "  troupe-ctl barrier ready",
      '  echo "CLIENT GOT $(troupe-ctl kv get secret) server at $(troupe-ctl addr server)"',
      "  troupe-ctl barrier done",
    ].join("\n"),
  });
  made.push(dir);
  const r = troupe(["spread", "-v", "-pass=s3cret-pass"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // The container's hostname is its name; root; in the task's directory under path.
  assert.match(r.stdout, /^WORKS debian-12 on troupe-\d+-debian-12 as 0 in \/home\/test\/checks\/hello$/m);
  assert.match(r.stdout, /^REBOOTED 1 before$/m);
  // The client read what the server wrote, and knows the server's address on LXD's bridge.
  assert.match(r.stdout, /^CLIENT GOT from-troupe-\d+-debian-12 server at 10\.214\.0\.\d+$/m);
  assert.match(r.stdout, /^LOGGED IN AS root$/m);
  assert.match(r.stdout, /Successful tasks: 4/);
  // Allocated as Spread says it, under troupe's names.
  assert.match(r.stdout, /Allocated lxd:debian-12 \(troupe-\d+-debian-12\) at 10\.214\.0\.\d+\./);
  assert.deepEqual(containersOf(r.pid), []);
});

test("troupe play on lxd: a scenario's hosts are containers, each knows its address, none is left", () => {
  const dir = project({
    "scenario.yaml": [
      "backends:",
      "  lxd:",
      "    systems:",
      "      - debian-12:",
      `          image: ${TEST_IMAGE}`,
      "hosts:",
      "  - names: node-[1..2]",
      "    backend: lxd",
      "stages:",
      "  - name: hello",
      "    with_hosts: 'node-(\\d+)'",
      "    jobs:",
      '      - run: echo "NODE {{ re[1] }} IS $(hostname) AT {{ host.addr }} SEES $(hostname -I)"',
    ].join("\n"),
  });
  made.push(dir);
  const r = troupe(["play", "scenario.yaml"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const n of [1, 2]) {
    const m = new RegExp(`^node-${n}: NODE ${n} IS troupe-\\d+-debian-12 AT (10\\.214\\.0\\.\\d+) SEES (\\S+)`, "m").exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(m[1], m[2], "the address troupe knows is the container's own");
  }
  assert.deepEqual(containersOf(r.pid), []);
});
