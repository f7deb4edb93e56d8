// What stops an lxd run before any job: no client, no daemon, no image.
// Each is one line that says what to do, exit status 3, and nothing is
// allocated.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { project, troupe } from "../cli/helpers.js";
import { spreadYaml } from "./helpers.js";

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function hello(systems: Parameters<typeof spreadYaml>[0]): string {
  const dir = project({ "spread.yaml": spreadYaml(systems), "checks/hello/task.yaml": "summary: hello\nexecute: echo hello\n" });
  made.push(dir);
  return dir;
}

function refused(r: ReturnType<typeof troupe>, what: RegExp): void {
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stdout, /Allocating/);
}

test("no lxc nor incus on PATH: install LXD, start it", () => {
  const empty = mkdtempSync(join(tmpdir(), "troupe-nopath-"));
  made.push(empty);
  const r = troupe(["spread"], { cwd: hello(["debian-12"]), env: { PATH: empty } });
  refused(
    r,
    /^error: lxd: neither lxc nor incus is installed: install LXD \(Debian: apt-get install lxd\), then start it with `share\/engines\/start\.sh lxd`/m,
  );
});

test("the daemon does not answer: start it with share/engines/start.sh lxd", () => {
  const nowhere = mkdtempSync(join(tmpdir(), "troupe-nolxd-"));
  made.push(nowhere);
  const r = troupe(["spread"], { cwd: hello(["debian-12"]), env: { LXD_DIR: nowhere } });
  refused(
    r,
    new RegExp(`^error: lxd: the LXD daemon does not answer at LXD_DIR=${nowhere} .*: start it with \`share/engines/start.sh lxd\``, "m"),
  );
});

test("no permission on the daemon's socket: run as root or join its group", () => {
  // The check as another user: a child loads it as root (CI's Node may sit
  // in a folder only root can read), then drops to nobody and asks the real
  // daemon's socket.
  const check = new URL("../../../src/backends/lxd/check.js", import.meta.url).href;
  const client = new URL("../../../src/backends/lxd/client.js", import.meta.url).href;
  const script = `
    const { checkDaemon, clientOf } = await import(${JSON.stringify(check)});
    const { clientSetup } = await import(${JSON.stringify(client)});
    const c = clientOf(clientSetup());
    process.setgid(65534);
    process.setuid(65534);
    try { await checkDaemon(c); console.log("no error"); } catch (e) { console.log(e.code + " " + e.message); }
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^E_BACKEND lxd: no permission on \S+unix\.socket: run troupe as root, or as a member of its group \S+$/m);
});

test("no image for a system: build it with troupe image build, and which aliases were looked for", () => {
  const r = troupe(["spread"], { cwd: hello({ "debian-99": "debian-99" }) });
  refused(
    r,
    /^error: lxd: no image for debian-99 \(looked for local aliases debian\/99, debian-99\): build it with `troupe image build debian-99`/m,
  );
});
