// `$(HOST:cmd)` that hangs (issue 12): it used to hang troupe forever. It
// is stopped at its timeout (TROUPE_HOST_COMMAND_TIMEOUT, small here) and
// reported where it was written; a Ctrl-C stops it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { project, troupe, TROUPE } from "./helpers.js";
import { processGone as gone } from "../../support/processes.js";

function hostProject(value: string): string {
  return project({
    "troupe.yaml": `project: hc\nenvironment:\n  SLOW: ${value}\nsuites:\n  s/:\n    summary: s\n`,
    "s/t/task.yaml": "summary: t\nexecute: true\n",
  });
}

/** Resolves once `file` has content. */
async function written(file: string): Promise<string> {
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
    if (text !== "") return text;
    await new Promise((r) => setImmediate(r));
  }
}

test("a $(HOST:cmd) that hangs is stopped at its timeout: exit 2, where it was written, what to do", () => {
  const r = troupe(["list"], { cwd: hostProject("$(HOST:sleep 1000)"), env: { TROUPE_HOST_COMMAND_TIMEOUT: "300ms" } });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(
    r.stderr.trim(),
    "troupe.yaml:3:3: project environment: $(HOST:sleep 1000) did not finish within 300ms, so it was stopped; fix it, or allow it longer with TROUPE_HOST_COMMAND_TIMEOUT (e.g. 30m, or -1 for no limit)",
  );
});

test("TROUPE_HOST_COMMAND_TIMEOUT that is not a duration is a usage error", () => {
  const r = troupe(["list"], { cwd: hostProject("$(HOST:true)"), env: { TROUPE_HOST_COMMAND_TIMEOUT: "soon" } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /TROUPE_HOST_COMMAND_TIMEOUT="soon" is not a duration; write e\.g\. 30s, 10m or 1h, or -1 for no limit/);
});

test("Ctrl-C while a $(HOST:cmd) runs stops troupe and the command", async () => {
  const dir = hostProject("$(HOST:echo $$ > cmd.pid; exec sleep 1000)");
  // A terminal sends Ctrl-C's SIGINT to its foreground process group: troupe
  // runs in a group of its own here, and the test signals that group.
  const child = spawn(process.execPath, [TROUPE, "list"], { cwd: dir, detached: true, stdio: "ignore" });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const cmd = Number(await written(join(dir, "cmd.pid")));
  process.kill(-child.pid!, "SIGINT");
  const end = await exited;
  assert.ok(end.code === 130 || end.signal === "SIGINT", `troupe ended with ${JSON.stringify(end)}`);
  await gone(cmd);
});
