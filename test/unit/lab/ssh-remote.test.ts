// The shell text the SSH transport sends, run here with the local /bin/sh
// exactly as sshd would run it: `$SHELL -c COMMAND` in a new session.

import { shWord } from "../../../src/exec/shell-quote.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  getScript,
  killGroupScript,
  putScript,
  remoteCommand,
  sessionWrapper,
  exportLines,
  interactiveWrapper,
} from "../../../src/transport/ssh/remote.js";
import { TroupeError } from "../../../src/util/errors.js";

function runLikeSshd(command: string, input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("/bin/sh", ["-c", command], { input: input ?? "", encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("shWord keeps plain words and quotes everything else as one word", () => {
  assert.equal(shWord("abc/def-1.2"), "abc/def-1.2");
  assert.equal(shWord(""), "''");
  assert.equal(shWord("it's"), `'it'\\''s'`);
  for (const s of ["a b", "$HOME", 'it\'s "x"\n\\n', "`id`", "*", "-n"]) {
    const r = runLikeSshd(`printf '%s' ${shWord(s)}`);
    assert.equal(r.stdout, s);
  }
});

test("exportLines refuses names a shell cannot set", () => {
  assert.equal(exportLines({ A: "1", B_2: "x y" }), "export A=1\nexport B_2='x y'\n");
  assert.throws(
    () => exportLines({ "A-B": "1" }),
    (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE",
  );
  assert.throws(() => exportLines({ "1A": "1" }), TroupeError);
});

test("the session wrapper reports its pid first and the script's status last, with env and cwd set", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-remote-"));
  try {
    const cmd = remoteCommand(
      sessionWrapper({
        token: "tok",
        cwd: dir,
        env: { GREETING: "hello 'world'", EMPTY: "" },
        script: 'echo "$GREETING"; pwd; echo "[$EMPTY]"; echo oops >&2; exit 255',
      }),
    );
    const r = runLikeSshd(cmd);
    assert.equal(r.status, 255);
    assert.equal(r.stdout, `hello 'world'\n${dir}\n[]\n`);
    const lines = r.stderr.split("\n");
    assert.match(lines[0]!, /^<<troupe:tok:pgid:\d+>>$/);
    assert.equal(lines[1], "oops");
    assert.equal(lines[2], "<<troupe:tok:exit:255>>");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the wrapper's pid is its process group: the login shell execs it", () => {
  // setsid makes the outer shell a group leader, as sshd does for each session.
  const cmd = remoteCommand(sessionWrapper({ token: "t", script: "ps -o pgid= -p $$ | tr -d ' '" }));
  const r = spawnSync("setsid", ["-w", "/bin/sh", "-c", cmd], { encoding: "utf8" });
  const pgid = /pgid:(\d+)/.exec(r.stderr)?.[1];
  assert.ok(pgid, r.stderr);
  assert.equal(r.stdout.trim(), pgid);
});

test("a missing working directory fails with status 1 and still reports it", () => {
  const r = runLikeSshd(remoteCommand(sessionWrapper({ token: "t", cwd: "/nonexistent/dir", script: "echo ran" })));
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /<<troupe:t:exit:1>>/);
});

test("a script uploaded to a file is run from it, gets stdin, and the file is removed", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-remote-"));
  try {
    const file = join(dir, "script");
    writeFileSync(file, 'read line; echo "got $line"; exit 3\n');
    const r = runLikeSshd(remoteCommand(sessionWrapper({ token: "t", script: "", scriptFile: file })), "input\n");
    assert.equal(r.status, 3);
    assert.equal(r.stdout, "got input\n");
    assert.equal(existsSync(file), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the interactive wrapper sets env and cwd and passes the status through", () => {
  const r = runLikeSshd(remoteCommand(interactiveWrapper({ script: 'echo "$X $(pwd)"; exit 4', env: { X: "x" }, cwd: "/" })));
  assert.equal(r.status, 4);
  assert.equal(r.stdout, "x /\n");
  assert.equal(r.stderr, "");
});

test("killGroupScript kills a whole process group, children included", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-remote-"));
  try {
    const pidFile = join(dir, "pids");
    // A group leader with a background child and a foreground child.
    const leader = spawnSync("sh", [
      "-c",
      `setsid sh -c 'sleep 1000 & echo $! > ${pidFile}.child; echo $$ > ${pidFile}; sleep 1000' >/dev/null 2>&1 & sleep 0.3`,
    ]);
    assert.equal(leader.status, 0);
    const pgid = Number(readFileSync(pidFile, "utf8"));
    const child = Number(readFileSync(`${pidFile}.child`, "utf8"));
    assert.ok(alive(pgid) && alive(child));
    const r = runLikeSshd(remoteCommand(killGroupScript(pgid)));
    assert.equal(r.status, 0);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(alive(pgid), false);
    assert.equal(alive(child), false);
    // Killing a group that is gone is not an error.
    assert.equal(runLikeSshd(remoteCommand(killGroupScript(pgid))).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("killGroupScript refuses pids that would mean every process", () => {
  assert.throws(() => killGroupScript(1), TroupeError);
  assert.throws(() => killGroupScript(0), TroupeError);
  assert.throws(() => killGroupScript(-5), TroupeError);
});

test("putScript and getScript round-trip a directory through tar, gzip'd or not", () => {
  const src = mkdtempSync(join(tmpdir(), "troupe-remote-"));
  const dst = join(src, "out", "-odd dir");
  try {
    writeFileSync(join(src, "a file"), "A");
    writeFileSync(join(src, "b"), "B");
    const packed = spawnSync("/bin/sh", ["-c", remoteCommand(getScript(src, ["a file", "b"]))]);
    assert.equal(packed.status, 0, packed.stderr.toString());
    assert.equal(packed.stdout[0], 0x1f);
    const unpacked = spawnSync("/bin/sh", ["-c", remoteCommand(putScript(dst, true))], { input: packed.stdout });
    assert.equal(unpacked.status, 0, unpacked.stderr.toString());
    assert.equal(readFileSync(join(dst, "a file"), "utf8"), "A");
    const plain = spawnSync("tar", ["-cf", "-", "-C", src, "b"]);
    const dst2 = join(src, "plain");
    const r = spawnSync("/bin/sh", ["-c", remoteCommand(putScript(dst2, false))], { input: plain.stdout });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(join(dst2, "b"), "utf8"), "B");
    const missing = spawnSync("/bin/sh", ["-c", remoteCommand(getScript(src, ["nope"]))]);
    assert.notEqual(missing.status, 0);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  assert.throws(() => getScript("/", []), TroupeError);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purpose.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
