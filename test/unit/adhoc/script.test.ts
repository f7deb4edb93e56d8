import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runAdhocScript as runScript } from "../../../src/backends/adhoc/script.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "troupe-adhoc-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (script: string, env: Record<string, string> = {}) => runScript({ script, cwd: dir, env });

describe("adhoc scripts", () => {
  it("reports the address given to ADDRESS, with the variables set and the project dir as cwd", async () => {
    const out = await run('echo "$SPREAD_SYSTEM" > sys.txt\npwd >> sys.txt\nADDRESS "10.0.0.$N:2222"', {
      SPREAD_SYSTEM: "ubuntu",
      N: "7",
    });
    assert.equal(out.kind, "ok");
    assert.equal(out.kind === "ok" && out.results["ADDRESS"], "10.0.0.7:2222");
    assert.equal(await readFile(join(dir, "sys.txt"), "utf8"), `ubuntu\n${dir}\n`);
  });

  it("turns ERROR into a retryable error with its message and stops the script", async () => {
    const out = await run('ERROR "no capacity left"\ntouch never');
    assert.deepEqual({ kind: out.kind, message: "message" in out ? out.message : "" }, { kind: "error", message: "no capacity left" });
    await assert.rejects(readFile(join(dir, "never")));
  });

  it("turns FATAL into a fatal error, even from a nested function", async () => {
    const out = await run('f() { FATAL "bad image $1"; }\nf xenial\nADDRESS 1.2.3.4');
    assert.equal(out.kind, "fatal");
    assert.equal("message" in out && out.message, "bad image xenial");
  });

  it("treats a failing command as a retryable error that carries its output", async () => {
    const out = await run("echo preparing\nfalse\nADDRESS 1.2.3.4");
    assert.equal(out.kind, "error");
    assert.match("message" in out ? out.message : "", /exit status 1:\n-----\n[^]*preparing/);
  });

  it("runs with set -u: an unset variable fails", async () => {
    const out = await run('echo "$NOT_SET_ANYWHERE"');
    assert.equal(out.kind, "error");
    assert.match(out.output, /NOT_SET_ANYWHERE/);
  });

  it("does not let the script read the orchestrator's stdin", async () => {
    const out = await run('read x || ADDRESS "eof"');
    assert.equal(out.kind === "ok" && out.results["ADDRESS"], "eof");
  });

  it("streams lines and traces commands but not the prelude", async () => {
    const lines: string[] = [];
    const out = await runScript({ script: "echo one\necho two >&2\nADDRESS h", cwd: dir, env: {}, onLine: (l) => lines.push(l) });
    assert.equal(out.kind, "ok");
    assert.ok(lines.includes("one") && lines.includes("two") && lines.includes("<ADDRESS h>"));
    assert.ok(
      lines.some((l) => l.startsWith("+ echo one")),
      lines.join("|"),
    );
    assert.ok(!lines.some((l) => l.includes("DEBIAN_FRONTEND")));
  });

  it("kills a script that outlives its kill timeout, warning before", async () => {
    const warnings: string[] = [];
    const out = await runScript({
      script: "echo started\nsleep 30",
      cwd: dir,
      env: {},
      killMs: 700,
      warnMs: 300,
      onWarn: (_ms, text) => warnings.push(text),
    });
    assert.deepEqual({ kind: out.kind, message: "message" in out ? out.message : "" }, { kind: "error", message: "kill-timeout reached" });
    assert.ok(warnings.length >= 1);
    assert.match(warnings[0] ?? "", /started/);
  });

  it("an empty script does nothing", async () => {
    assert.deepEqual(await run("  \n"), { kind: "ok", results: {}, output: "" });
  });
});
