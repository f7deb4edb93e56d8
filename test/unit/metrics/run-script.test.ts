// The shell text that runs Prometheus on a host: where it listens and is
// reached, and that the scripts are valid sh that does what it says.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinaryScript, listenAddress, parsePid, runScript, writeFileScript } from "../../../src/metrics/run-script.js";
import { isTroupeError } from "../../../src/util/errors.js";

test("listenAddress: a wildcard listen is reached at the host's address, a specific one at itself", () => {
  assert.deepEqual(listenAddress("0.0.0.0:9090", "10.213.0.5"), { listen: "0.0.0.0:9090", url: "http://10.213.0.5:9090", port: 9090 });
  assert.deepEqual(listenAddress(":9091", "node-1.example"), { listen: ":9091", url: "http://node-1.example:9091", port: 9091 });
  assert.equal(listenAddress("[::]:9090", "fd00::5").url, "http://[fd00::5]:9090");
  assert.equal(listenAddress("127.0.0.1:9092", "10.213.0.5").url, "http://127.0.0.1:9092");
  assert.throws(
    () => listenAddress("9090", "h"),
    (e: unknown) => isTroupeError(e) && e.code === "E_USAGE" && e.message.includes("HOST:PORT"),
  );
});

test("findBinaryScript: a name is looked up in PATH, a path must be an executable file", () => {
  const run = (script: string): { code: number | null; out: string } => {
    const r = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });
    return { code: r.status, out: r.stdout.trim() };
  };
  assert.deepEqual(run(findBinaryScript("sh")), {
    code: 0,
    out: execFileSync("/bin/sh", ["-c", "command -v sh"], { encoding: "utf8" }).trim(),
  });
  assert.equal(run(findBinaryScript("troupe-no-such-binary")).code, 127);
  assert.deepEqual(run(findBinaryScript("/bin/sh")), { code: 0, out: "/bin/sh" });
  const dir = mkdtempSync(join(tmpdir(), "troupe-prom-unit-"));
  try {
    writeFileSync(join(dir, "plain"), "not a program\n", { mode: 0o644 });
    assert.equal(run(findBinaryScript(join(dir, "plain"))).code, 127);
    assert.equal(run(findBinaryScript(dir)).code, 127);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFileScript: standard input lands in the file, quoted paths and all", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "troupe-prom-unit-")), "a dir's name");
  try {
    execFileSync("/bin/sh", ["-c", writeFileScript(dir, "targets.json")], { input: "[1]\n" });
    execFileSync("/bin/sh", ["-c", writeFileScript(dir, "targets.json")], { input: "[2]\n" });
    assert.equal(readFileSync(join(dir, "targets.json"), "utf8"), "[2]\n");
    assert.deepEqual(execFileSync("ls", ["-A", dir], { encoding: "utf8" }).split("\n").filter(Boolean), ["data", "targets.json"]);
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
});

test("runScript: valid sh; the server is started with absolute paths and its pid printed first", () => {
  const s = runScript("/var/tmp/p q", "/usr/bin/prometheus", "0.0.0.0:9090");
  assert.equal(spawnSync("/bin/sh", ["-n", "-c", s]).status, 0);
  assert.match(s, /--config\.file='\/var\/tmp\/p q\/prometheus\.yml' --storage\.tsdb\.path='\/var\/tmp\/p q\/data'/);
  assert.ok(s.indexOf("troupe-prometheus-pid") < s.indexOf("wait"));
});

test("parsePid: the pid line, once it is whole", () => {
  assert.equal(parsePid(""), undefined);
  assert.equal(parsePid("troupe-prometheus-pid 12"), 12);
  assert.equal(parsePid("troupe-prometheus-pid 12\n"), 12);
  assert.equal(parsePid("noise\ntroupe-prometheus-pid 345\n"), 345);
  assert.equal(parsePid("troupe-prometheus-pid \n"), undefined);
});
