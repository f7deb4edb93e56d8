// `troupe-ctl baton`: the hosts of a multi-host job take turns, through the
// CLI on local processes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { project, troupe } from "./helpers.js";

const PROJECT = "project: mhbaton\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 3\nsuites:\n  s/:\n    summary: s\n";

test("hosts take turns with a baton: in role order, twice round, then handed straight to a named host", () => {
  const dir = project({
    "troupe.yaml": PROJECT,
    "s/t/task.yaml": `summary: each host writes in its turn
hosts:
  server: {}
  client: {count: 2}
execute: |
  turn() {
    troupe-ctl baton wait turn
    order=$(troupe-ctl kv get order || true)
    troupe-ctl kv set order "$order $TROUPE_HOST"
  }
  for round in 1 2; do
    turn
    troupe-ctl baton pass turn
  done
  if [ "$TROUPE_HOST" = server ]; then
    turn
    troupe-ctl baton pass turn client-2
  fi
  if [ "$TROUPE_HOST" = client-2 ]; then
    turn
  fi
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [id] = readdirSync(join(dir, ".troupe", "runs"));
    const run = JSON.parse(readFileSync(join(dir, ".troupe", "runs", id!, "run.json"), "utf8")) as {
      jobs: { kv?: Record<string, string> }[];
    };
    assert.equal(run.jobs[0]!.kv?.["order"], " server client-1 client-2 server client-1 client-2 server client-2");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
