// The shell text the OpenSSH transport builds around a script (remote.ts),
// run by the local /bin/sh as sshd runs it, with paths and values that hold
// what shells treat specially: spaces, single quotes, `$(...)`, backquotes,
// newlines, a leading dash. Each must reach the host as one word and never be
// run as a command.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarkerFilter } from "../../../src/transport/ssh/markers.js";
import { commandLoop, interactiveWrapper, loopRequest, remoteCommand, sessionWrapper } from "../../../src/transport/ssh/remote.js";

/** File names a shell would split, unquote or run if they were quoted twice. */
const NASTY = [
  "a b",
  "it's",
  "$(touch pwned-dollar)",
  "`touch pwned-backquote`",
  "it's a $(touch pwned-both) `touch pwned-bq` file; touch pwned-semicolon",
  "'; touch pwned-quote; '",
  "line one\nline two $(touch pwned-newline)",
  "-x",
];

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "troupe-quoting-"));
}

/** Nothing in `dir` but what the test made: no `pwned-*` file appeared. */
function assertNothingRan(dir: string): void {
  const made = readdirSync(dir).filter((f) => f.startsWith("pwned"));
  assert.deepEqual(made, [], `a command hidden in a file name was run: ${made.join(", ")}`);
}

/** Run `command` as sshd would (`$SHELL -c COMMAND`), in `cwd`. */
function runLikeSshd(command: string, cwd: string, input = ""): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("/bin/sh", ["-c", command], { cwd, input, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("an uploaded script whose path holds a space, a quote and $(...) runs, is removed, and nothing else runs", () => {
  const dir = scratch();
  try {
    for (const name of NASTY) {
      const file = join(dir, name.replace(/\//g, "_"));
      writeFileSync(file, 'echo "ran with $1"; exit 7\n');
      const r = runLikeSshd(remoteCommand(sessionWrapper({ token: "tok", script: "", scriptFile: file })), dir);
      assert.equal(r.status, 7, `${JSON.stringify(name)}: ${r.stderr}`);
      assert.equal(r.stdout, "ran with \n", JSON.stringify(name));
      assert.match(r.stderr, /<<troupe:tok:exit:7>>\n$/, JSON.stringify(name));
      assert.equal(existsSync(file), false, `${JSON.stringify(name)}: the script file was left`);
      assertNothingRan(dir);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a relative script file named like an option is run as a file, not read as an option of sh", () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, "-c"), "echo from the file\n");
    const r = runLikeSshd(remoteCommand(sessionWrapper({ token: "t", script: "", scriptFile: "-c" })), dir);
    assert.equal(r.stdout, "from the file\n", r.stderr);
    assert.equal(r.status, 0);
    assert.equal(existsSync(join(dir, "-c")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("working directories and environment values with quotes and $(...) arrive as they are, in every wrapper", () => {
  const dir = scratch();
  try {
    for (const name of NASTY) {
      const cwd = join(dir, name.replace(/\//g, "_"));
      rmSync(cwd, { recursive: true, force: true });
      spawnSync("mkdir", ["-p", "--", cwd]);
      const env = { VALUE: name };
      const script = 'printf "%s|%s" "$(pwd)" "$VALUE"';
      const session = runLikeSshd(remoteCommand(sessionWrapper({ token: "t", script, env, cwd })), dir);
      assert.equal(session.stdout, `${cwd}|${name}`, `${JSON.stringify(name)}: ${session.stderr}`);
      const interactive = runLikeSshd(remoteCommand(interactiveWrapper({ script, env, cwd })), dir);
      assert.equal(interactive.stdout, `${cwd}|${name}`, `${JSON.stringify(name)}: ${interactive.stderr}`);
      assertNothingRan(dir);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the command loop runs a wrapper whose script file and values span lines and hold quotes", () => {
  const dir = scratch();
  try {
    const file = join(dir, "it's a $(touch pwned-loop)\nfile");
    writeFileSync(file, 'echo "[$V]"\n');
    const wrapper = sessionWrapper({ token: "tk", script: "", scriptFile: file, env: { V: "x'\n$(touch pwned-env)" } });
    const r = spawnSync("/bin/sh", ["-c", remoteCommand(commandLoop())], { cwd: dir, input: loopRequest("tk", 0, wrapper) });
    const markers: string[] = [];
    const f = new MarkerFilter("tk", (kind, value) => markers.push(`${kind}:${value}`));
    const out = Buffer.concat([f.push(r.stdout), f.end()]).toString("utf8");
    assert.equal(out, "[x'\n$(touch pwned-env)]\n", r.stderr.toString());
    assert.deepEqual(markers, ["done:0"]);
    assert.equal(existsSync(file), false, "the script file was left");
    assertNothingRan(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
