// Two jobs on one ssh host at once (two systems naming the same lab host,
// reached as a plain SSH host): the second job finds the first one's sync
// control dir in the host's /tmp, and is refused: no read, no write.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { labLeftovers, privateTmp, project, troupe } from "../cli/helpers.js";

const LAB_KEY = "/run/troupe-lab/id_ed25519";
const lab = `trust${process.pid}`;
let address = "";

before(() => {
  const up = troupe(["lab", "up", "1", "--name", lab]);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  address = /\s(10\.213\.\d+\.\d+)\s/.exec(up.stdout)?.[1] ?? "";
  assert.ok(address, up.stdout);
});
after(() => {
  const down = troupe(["lab", "down", "--name", lab]);
  assert.equal(down.status, 0, down.stdout + down.stderr);
});

test("on one ssh host, a job cannot use another job's sync session through its control dir", () => {
  const system = (name: string): string[] => [
    `      - ${name}:`,
    `          hosts: [root@${address}]`,
    `          identity-file: ${LAB_KEY}`,
  ];
  const p = project({
    "troupe.yaml": [
      "project: ssh-jobs",
      "path: /root/ssh-jobs",
      "backends:",
      "  fleet:",
      "    type: ssh",
      "    systems:",
      ...system("first"),
      ...system("second"),
      "suites:",
      "  s/:",
      "    summary: s",
      "",
    ].join("\n"),
    "s/a/task.yaml": `summary: keeps a secret and hands its control dir over
systems: [first]
kill-timeout: 1m
hosts:
  n: {}
execute: |
  troupe-ctl kv set secret s3cr3t
  mkfifo /tmp/trust-dir /tmp/trust-done 2>/dev/null || true
  echo "$TROUPE_CTL_DIR" > /tmp/trust-dir
  cat /tmp/trust-done
  echo "a still has: $(troupe-ctl kv get secret)"
`,
    "s/b/task.yaml": `summary: tries job a's session
systems: [second]
kill-timeout: 1m
hosts:
  n: {}
execute: |
  mkfifo /tmp/trust-dir /tmp/trust-done 2>/dev/null || true
  read -r dir < /tmp/trust-dir
  set +e
  got=$(TROUPE_CTL_DIR=$dir "$dir/bin/troupe-ctl" kv get secret 2>&1); echo "b get: $? $got"
  out=$(TROUPE_CTL_DIR=$dir "$dir/bin/troupe-ctl" kv set secret pwned 2>&1); echo "b set: $? $out"
  echo "b modes: $(stat -c %a "$dir" "$dir/req" | tr '\\n' ' ')"
  echo done > /tmp/trust-done
`,
  });
  const tmp = privateTmp();
  try {
    const r = troupe(["run", "-vv"], { cwd: p, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^n: b get: 77 troupe-ctl: refused: this sync relay belongs to another job/m);
    assert.match(r.stdout, /^n: b set: 77 troupe-ctl: refused:/m);
    assert.match(r.stdout, /^n: b modes: 700 600 $/m);
    assert.match(r.stdout, /^n: a still has: s3cr3t$/m);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    rmSync(p, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});
