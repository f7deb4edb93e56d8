// The TypeScript API runs a multi-host job and takes part in it from the
// orchestrator's side: it awaits the hosts' barrier and a key they set, then
// sends the message they wait for.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { run, type SyncSession } from "../../../src/index.js";
import { project } from "../cli/helpers.js";

test("run() with onJobSession: the orchestrator awaits a barrier and a key, and sends what the hosts wait for", async () => {
  const dir = project({
    "troupe.yaml": "project: api\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 2\nsuites:\n  s/:\n    summary: s\n",
    "s/pair/task.yaml": `summary: two hosts and the orchestrator
hosts:
  node: {count: 2}
execute: |
  troupe-ctl barrier ready --timeout 30s
  [ "$TROUPE_HOST" != node-1 ] || troupe-ctl kv set answer 42
  troupe-ctl wait go --timeout 30s | MATCH '^phase=two$'
`,
  });
  try {
    const seen: { job: string; arrived: string[]; answer: string }[] = [];
    const waits: Promise<void>[] = [];
    let printed = "";
    const result = await run({
      cwd: dir,
      seed: 1,
      out: new Writable({ write: (c: Buffer, _e, cb) => ((printed += c.toString()), cb()) }),
      onJobSession: (job, session: SyncSession) => {
        waits.push(
          (async () => {
            const barrier = await session.sync.barrier("ready", { timeoutMs: 30_000 });
            const answer = await session.sync.kv.wait("answer", { timeoutMs: 30_000 });
            seen.push({ job: job.name, arrived: [...barrier.arrived].sort(), answer });
            session.sync.send("go", { phase: "two" });
          })(),
        );
      },
    });
    await Promise.all(waits);
    assert.equal(result.exitCode, 0, printed);
    assert.deepEqual(result.passed, ["local:sys:s/pair"]);
    assert.deepEqual(seen, [{ job: "local:sys:s/pair", arrived: ["node-1", "node-2"], answer: "42" }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
