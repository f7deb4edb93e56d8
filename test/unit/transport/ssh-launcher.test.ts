// The launcher that starts one-shot `ssh` processes from small bash helpers
// (src/transport/ssh/launcher.ts), run with real processes: what each one
// gets and reports, that one never holds another's output open, kills,
// and that nothing of it keeps troupe's process alive.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findProgram, Launcher, type LaunchedProcess } from "../../../src/transport/ssh/launcher.js";

const bash = findProgram("bash");
const sh = findProgram("sh")!;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function collect(p: LaunchedProcess): Promise<Ended> {
  let out = "";
  let err = "";
  p.stdout?.on("data", (b: Buffer) => (out += b.toString("utf8")));
  p.stderr?.on("data", (b: Buffer) => (err += b.toString("utf8")));
  return new Promise((resolve, reject) => {
    p.once("error", reject);
    p.once("close", (code, signal) => resolve({ code, signal, out, err }));
  });
}

describe("ssh launcher", { skip: bash === undefined ? "no bash" : false }, () => {
  const launcher = (): Launcher => new Launcher(bash!, mkdtempSync(join(tmpdir(), "troupe-launcher-")));

  it("runs each program with its own stdout, stderr and status, across more programs than one helper has slots", async () => {
    const l = launcher();
    // 8 slots, then 32: two helpers.
    const runs = Array.from({ length: 30 }, (_, i) =>
      collect(l.launch(sh, ["-c", `echo "out ${i}"; echo "err ${i}" >&2; read line || echo "no input ${i}"; exit ${i}`])),
    );
    const ended = await Promise.all(runs);
    ended.forEach((e, i) => {
      assert.deepEqual(e, { code: i, signal: null, out: `out ${i}\nno input ${i}\n`, err: `err ${i}\n` });
    });
  });

  it("arguments reach the program as they are", async () => {
    const l = launcher();
    const args = ["it's", 'a "b"', "$(touch pwned)", "`id`", "line\nbreak", "", "-n", "*"];
    const e = await collect(l.launch(sh, ["-c", 'for a in "$@"; do printf "[%s]" "$a"; done', "sh", ...args]));
    assert.equal(e.out, args.map((a) => `[${a}]`).join(""));
    assert.equal(existsSync("pwned"), false);
  });

  it("the program gets the argv[0] asked for, as spawn gives `ssh` to ssh", async () => {
    const l = launcher();
    assert.equal((await collect(l.launch(sh, ["-c", 'echo "$0"'], { argv0: "troupe-test-sh" }))).out, "troupe-test-sh\n");
    assert.equal((await collect(l.launch(sh, ["-c", 'echo "$0"']))).out, `${sh}\n`);
  });

  it("with session, a program is the leader of a session of its own, as ssh spawned detached is", async () => {
    const l = launcher();
    const probe = ["-c", 'echo "$$ $(ps -o sid= -p $$)"'];
    const own = (await collect(l.launch(sh, probe, { session: true, argv0: "sh" }))).out.trim().split(/\s+/);
    assert.equal(own[0], own[1]);
    const shared = (await collect(l.launch(sh, probe))).out.trim().split(/\s+/);
    assert.notEqual(shared[0], shared[1]);
  });

  it("a program that keeps running holds no other program's output open", async () => {
    const l = launcher();
    const slow = l.launch(sh, ["-c", "exec sleep 1000"]);
    const slowEnded = collect(slow);
    // Launched after the slow one, in the same helper: the slow one's subshell must not hold its pipes.
    const quick = await collect(l.launch(sh, ["-c", "echo quick"]));
    assert.equal(quick.out, "quick\n");
    assert.equal(slow.exitCode, null);
    assert.equal(slow.signalCode, null);
    assert.equal(slow.kill("SIGTERM"), true);
    const e = await slowEnded;
    assert.deepEqual([e.code, e.signal], [null, "SIGTERM"]);
    assert.equal(slow.kill("SIGTERM"), false);
  });

  it("a kill before the helper has started the program reaches it once it runs", async () => {
    const l = launcher();
    const p = l.launch(sh, ["-c", "exec sleep 1000"]);
    p.kill("SIGKILL");
    const e = await collect(p);
    assert.deepEqual([e.code, e.signal], [null, "SIGKILL"]);
  });

  it("a status above 128 that no signal of ours caused is an exit status", async () => {
    const e = await collect(launcher().launch(sh, ["-c", "exit 130"]));
    assert.deepEqual([e.code, e.signal], [130, null]);
  });

  it("ignored streams are not piped", async () => {
    const p = launcher().launch(sh, ["-c", "echo out; echo err >&2; exit 3"], { stdout: "ignore", stderr: "ignore" });
    assert.equal(p.stdout, null);
    assert.equal(p.stderr, null);
    assert.deepEqual(await collect(p), { code: 3, signal: null, out: "", err: "" });
  });

  it("a helper that cannot be started fails each launch with an error", async () => {
    const l = new Launcher("/nonexistent/bash", mkdtempSync(join(tmpdir(), "troupe-launcher-")));
    await assert.rejects(collect(l.launch(sh, ["-c", "true"])), /cannot run/);
  });

  it("BASH_ENV is not run by the helper and is handed on to the programs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-launcher-"));
    const saved = process.env["BASH_ENV"];
    try {
      const envFile = join(dir, "env.sh");
      writeFileSync(envFile, `touch ${JSON.stringify(join(dir, "ran"))}\n`);
      process.env["BASH_ENV"] = envFile;
      const e = await collect(new Launcher(bash!, dir).launch(sh, ["-c", 'echo "$BASH_ENV"']));
      assert.equal(e.out, `${envFile}\n`);
      assert.equal(existsSync(join(dir, "ran")), false);
    } finally {
      if (saved === undefined) delete process.env["BASH_ENV"];
      else process.env["BASH_ENV"] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("troupe's process exits on its own once what it launched is done, and while it runs, does not", async () => {
    const launcherUrl = new URL("../../../src/transport/ssh/launcher.js", import.meta.url).href;
    const script = [
      `import { Launcher } from ${JSON.stringify(launcherUrl)};`,
      `const l = new Launcher(${JSON.stringify(bash)}, process.argv[1]);`,
      `const count = "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done";`,
      // Nothing keeps it alive but what it launched, which counts for a while before it ends.
      `const p = l.launch(${JSON.stringify(sh)}, ["-c", count + "; echo late"]);`,
      `p.stdout.on("data", (b) => process.stdout.write(b));`,
      `p.once("close", (code) => process.stdout.write("closed " + code + "\\n"));`,
      // With no stream to read: only its report is awaited.
      `const q = l.launch(${JSON.stringify(sh)}, ["-c", count + "; exit 7"], { stdout: "ignore", stderr: "ignore" });`,
      `q.once("close", (code) => process.stdout.write("quiet " + code + "\\n"));`,
    ].join("\n");
    const dir = mkdtempSync(join(tmpdir(), "troupe-launcher-"));
    try {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      // It waited for the program (which printed), then ended by itself.
      assert.equal(code, 0);
      assert.deepEqual(out.split("\n").sort(), ["", "closed 0", "late", "quiet 7"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("findProgram finds what execvp would, and nothing else", () => {
    assert.equal(findProgram("sh", `/nonexistent${":"}${sh.slice(0, sh.lastIndexOf("/"))}`), sh);
    assert.equal(findProgram("troupe-no-such-program"), undefined);
    assert.equal(findProgram(sh), sh);
    assert.equal(findProgram(fileURLToPath(import.meta.url)), undefined, "not executable");
  });
});
