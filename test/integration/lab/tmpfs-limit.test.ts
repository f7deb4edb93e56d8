// A lab host's writable places share one budget, `tmpfs-size`: its changes
// to `/` and its `/tmp`, `/run` and `/dev/shm` all live on the host's one
// tmpfs, so that no path on the host writes into the machine's memory past
// it (they were separate tmpfs mounts of half the machine's memory each).

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { labLeftovers, privateTmp, project, troupe } from "../cli/helpers.js";

test("tmpfs-size bounds a lab host's /, /tmp, /run and /dev/shm together: df shows it, and a write past it fails with ENOSPC", () => {
  const p = project({
    "troupe.yaml": "project: tmpfs\nbackends:\n  lab:\n    tmpfs-size: 64M\n    systems: [debian-lab]\nsuites:\n  t/:\n    summary: s\n",
    "t/fill/task.yaml": `summary: writes past the budget
execute: |
  df -B1 --output=target,size / /tmp /run /dev/shm | sed 's/  */ /g'
  for d in /tmp /run /dev/shm /var; do
    # The message in memory: a file for it would be on the full budget too.
    if msg=$(head -c 80M /dev/zero 2>&1 > "$d/fill"); then echo "$d: wrote 80M"; else echo "$d: $msg"; fi
    rm -f "$d/fill"
  done
  # One budget: 40M in /dev/shm leave less than 40M for /tmp.
  head -c 40M /dev/zero > /dev/shm/half
  if msg=$(head -c 40M /dev/zero 2>&1 > /tmp/half); then echo "shared: wrote both"; else echo "shared: $msg"; fi
`,
  });
  const tmp = privateTmp();
  try {
    const r = troupe(["run", "-vv"], { cwd: p, env: { TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const d of ["/", "/tmp", "/run", "/dev/shm"]) assert.match(r.stdout, new RegExp(`^${d} 67108864$`, "m"), `df ${d}`);
    for (const d of ["/tmp", "/run", "/dev/shm", "/var"]) assert.match(r.stdout, new RegExp(`^${d}: .*No space left on device$`, "m"), d);
    assert.match(r.stdout, /^shared: .*No space left on device$/m);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    rmSync(p, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});
