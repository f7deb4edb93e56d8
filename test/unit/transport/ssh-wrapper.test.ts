// How the OpenSSH transport's session wrapper (remote.ts) runs a script, run
// here by the local /bin/sh as sshd runs a command (`$SHELL -c COMMAND`, in a
// new session): what the script sees and what the wrapper reports, however
// the script ends.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { MarkerFilter, type MarkerKind } from "../../../src/transport/ssh/markers.js";
import { remoteCommand, sessionWrapper } from "../../../src/transport/ssh/remote.js";

interface Session {
  status: number | null;
  stdout: string;
  /** stderr without the markers. */
  stderr: string;
  markers: [MarkerKind, number][];
}

function session(script: string, input = ""): Session {
  const command = remoteCommand(sessionWrapper({ token: "tk", script }));
  // setsid: sshd makes each session's command the leader of a session and group of its own.
  const r = spawnSync("setsid", ["-w", "/bin/sh", "-c", command], { input });
  const markers: [MarkerKind, number][] = [];
  const f = new MarkerFilter("tk", (kind, value) => markers.push([kind, value]));
  const stderr = Buffer.concat([f.push(r.stderr), f.end()]).toString("utf8");
  return { status: r.status, stdout: r.stdout.toString("utf8"), stderr, markers };
}

test("however the script ends, the wrapper reports its status last", () => {
  const cases: [string, number, string?][] = [
    ["echo out; echo err >&2; exit 7", 7],
    ["exit 255", 255],
    ["true", 0],
    ["false", 1],
    ["exec /bin/sh -c 'exit 5'", 5],
    ["set -e; false; echo not reached", 1],
    ["trap 'echo bye' EXIT; exit 4", 4, "bye\n"],
    ["troupe_status=9; exit 3", 3],
    // The script's $$ is its own shell, not the wrapper: killing it leaves the wrapper to report.
    ["kill -TERM $$; sleep 5; exit 0", 128 + 15],
    ["if", 2],
    ["echo unclosed '", 2],
    ["nosuchcommand-troupe", 127],
  ];
  for (const [script, status, stdout] of cases) {
    const s = session(script);
    assert.equal(s.status, status, `${script}: ${s.stderr}`);
    assert.deepEqual(
      s.markers.map(([k]) => k),
      ["pgid", "exit"],
      script,
    );
    assert.equal(s.markers[1]?.[1], status, script);
    if (stdout !== undefined) assert.equal(s.stdout, stdout, script);
  }
});

test("the script reads the session's input, has no arguments, and sees no variable of the wrapper", () => {
  const s = session('read -r line; echo "[$line] $# [${troupe_status-unset}] $0"', "hello\n");
  assert.equal(s.stdout, "[hello] 0 [unset] /bin/sh\n");
  assert.equal(s.status, 0);
});

test("a plain command is run by the wrapper itself; anything a shell must read goes through a shell of its own", () => {
  const ownShell = (script: string): boolean => sessionWrapper({ token: "t", script }).includes("/bin/sh -c");
  // Words of letters, digits and -./:=,@%+_ with the first naming a program: run as they are (an exec fewer).
  for (const plain of ["hostname", "cat /etc/hostname", "systemctl is-active nginx.service", "uname -r", "ls -la /tmp", "env A=1 true"]) {
    assert.equal(ownShell(plain), false, plain);
  }
  const shellNeeded = [
    "echo $HOME",
    "echo 'quoted'",
    'echo "x"',
    "echo a; echo b",
    "true && false",
    "echo a | cat",
    "echo > /dev/null",
    "ls *",
    "echo ~",
    "echo a\nb",
    "echo `id`",
    "echo a # comment",
    "A=1 env",
    "A=1",
    " hostname",
    "hostname ",
    "echo  two-spaces",
    "",
    // What would change the wrapper's own state, or end it.
    ...["exit 3", "exec true", "set -e", "trap true EXIT", "unset PATH", "export A", "readonly A", "shift", ". /dev/null", "eval true"],
    ...[
      "cd /",
      "umask 077",
      "return 1",
      "break",
      "continue",
      "wait",
      "times",
      ": x",
      "source /dev/null",
      "alias a=b",
      "read x",
      "local x",
      "newgrp",
    ],
    ...[
      "if",
      "then",
      "while",
      "for",
      "case",
      "!",
      "{",
      "}",
      "function",
      "select",
      "until",
      "do",
      "done",
      "fi",
      "esac",
      "elif",
      "else",
      "in",
      "time",
    ],
  ];
  for (const script of shellNeeded) assert.equal(ownShell(script), true, JSON.stringify(script));
});

test("a plain command run by the wrapper behaves as one run by a shell of its own", () => {
  const cases: [string, number, string][] = [
    ["true", 0, ""],
    ["false", 1, ""],
    ["echo a b", 0, "a b\n"],
    ["sh -c exit", 0, ""],
    ["env A=1 sh -c false", 1, ""],
    ["/bin/echo -n x", 0, "x"],
  ];
  for (const [script, status, stdout] of cases) {
    const s = session(script);
    assert.deepEqual([s.status, s.stdout], [status, stdout], script);
    assert.deepEqual(
      s.markers.map(([k, v]) => (k === "pgid" ? k : `${k}:${v}`)),
      ["pgid", `exit:${status}`],
      script,
    );
  }
  const missing = session("nosuchcommand-troupe arg");
  assert.equal(missing.status, 127);
  assert.match(missing.stderr, /nosuchcommand-troupe: (command )?not found/);
  assert.equal(session("cat", "piped input\n").stdout, "piped input\n");
});
