// The bridge is shared by every troupe process: set-up-and-plug and
// check-and-remove run under one flock, so neither slips between the
// other's check and its action.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostPaths } from "../../../src/backends/lab/layout.js";
import { bridgeLockLines, prepareScript, removeBridgeScript } from "../../../src/backends/lab/scripts.js";

function sh(script: string): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn("/bin/sh", ["-c", script], { stdio: "ignore" });
    c.on("close", (code) => resolve({ code, ms: performance.now() - t0 }));
  });
}

test("removing the bridge is skipped (exit 3) while a host record exists, and waits for the lock", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-bridge-lock-"));
  const hosts = join(dir, "hosts");
  await mkdir(hosts);
  await writeFile(join(hosts, "7.json"), "{}");
  const lock = join(dir, "bridge.lock");
  // Another process holds the lock for 300 ms (as while plugging a host in).
  const holder = sh([...bridgeLockLines(lock), "sleep 0.3"].join("\n"));
  await new Promise((r) => setTimeout(r, 50));
  const r = await sh(removeBridgeScript(hosts, lock));
  assert.equal(r.code, 3, "a record is left: the bridge stays");
  assert.ok(r.ms >= 150, `it waited for the lock (${r.ms.toFixed(0)} ms)`);
  assert.equal((await holder).code, 0);
});

test("a host is plugged into the bridge under the lock, after making sure the bridge is up", () => {
  const text = prepareScript(
    { netns: "troupe-lab-7", veth: "tlab7", paths: hostPaths("/run/x", 7), mac: "02:00:00:00:00:07", address: "10.213.0.8" },
    "50%",
    "/run/x/bridge.lock",
  );
  const lock = text.indexOf("flock 9");
  const up = text.indexOf("type bridge");
  const plug = text.indexOf("master troupe-lab0");
  assert.ok(lock >= 0 && lock < up && up < plug, text);
});
