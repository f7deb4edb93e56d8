// The command loop of the SSH transport's long-lived session (remote.ts
// commandLoop, command-session.ts), run here by the local /bin/sh as sshd
// would run it, fed requests on stdin as the transport writes them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { MarkerFilter, type MarkerKind } from "../../../src/transport/ssh/markers.js";
import { commandLoop, loopRequest, remoteCommand, sessionWrapper } from "../../../src/transport/ssh/remote.js";

interface Ran {
  out: string;
  err: string;
  markers: [string, MarkerKind, number][];
  status: number | null;
}

/** Run the loop with these requests on stdin (then EOF), through a marker filter per token. */
function runLoop(requests: { token: string; prev?: number; script: string }[], env: NodeJS.ProcessEnv = process.env): Ran {
  const input = requests.map((r) => loopRequest(r.token, r.prev ?? 0, sessionWrapper({ token: r.token, script: r.script }))).join("");
  const r = spawnSync("/bin/sh", ["-c", remoteCommand(commandLoop())], { input, env, timeout: 20_000 });
  const markers: [string, MarkerKind, number][] = [];
  const strip = (buf: Buffer): string => {
    let text = buf;
    for (const { token } of requests) {
      const f = new MarkerFilter(token, (k, v) => markers.push([token, k, v]));
      text = Buffer.concat([f.push(text), f.end()]);
    }
    return text.toString("utf8");
  };
  const out = strip(r.stdout);
  const err = strip(r.stderr);
  return { out, err, markers, status: r.status };
}

test("loopRequest frames a wrapper as a header with its line count, then its lines", () => {
  assert.equal(loopRequest("abc", 0, "one\ntwo"), "abc 0 2\none\ntwo\n");
  assert.equal(loopRequest("abc", 42, "one\n"), "abc 42 1\none\n");
  assert.equal(loopRequest("t", 0, "a\n\n'b\nc'"), "t 0 4\na\n\n'b\nc'\n");
});

test("the loop runs commands one after another, each ended by done on stdout and stderr", () => {
  const r = runLoop([
    { token: "aa11", script: "echo first; echo to-err >&2; exit 7" },
    { token: "bb22", script: "printf 'no newline'" },
    { token: "cc33", script: "x='multi\nline'; printf '%s\\n' \"$x\" \"back\\\\slash\"; exit 255" },
  ]);
  assert.equal(r.status, 0);
  assert.equal(r.out, "first\nno newlinemulti\nline\nback\\slash\n");
  assert.equal(r.err, "to-err\n");
  const of = (token: string): string[] => r.markers.filter(([t]) => t === token).map(([, k, v]) => (k === "pgid" ? "pgid" : `${k}:${v}`));
  // pgid and exit come from the wrapper (stderr); done from the loop, on both streams.
  assert.deepEqual(of("aa11").sort(), ["done:7", "done:7", "exit:7", "pgid"]);
  assert.deepEqual(of("bb22").sort(), ["done:0", "done:0", "exit:0", "pgid"]);
  assert.deepEqual(of("cc33").sort(), ["done:255", "done:255", "exit:255", "pgid"]);
});

test("each command is the leader of a session and process group of its own, with stdin from /dev/null", () => {
  const script = "ps -o pid= -o pgid= -o sid= -p $PPID | tr -s ' ' | sed 's/^ //'; cat; echo end";
  const r = runLoop([
    { token: "aa11", script },
    { token: "bb22", script },
  ]);
  const rows = r.out.trim().split("\n");
  assert.equal(rows.length, 4, r.out + r.err);
  const [first, , second] = rows;
  for (const row of [first, second]) {
    const [pid, pgid, sid] = row!.split(" ");
    // $PPID of the script is the wrapper, which setsid made leader of both.
    assert.equal(pgid, pid);
    assert.equal(sid, pid);
  }
  assert.notEqual(first, second);
  assert.deepEqual(
    rows.filter((l) => l === "end"),
    ["end", "end"],
  );
  const pgids = r.markers.filter(([, k]) => k === "pgid").map(([, , v]) => String(v));
  assert.deepEqual(pgids, [first!.split(" ")[0], second!.split(" ")[0]]);
});

test("the loop refuses the next command while the previous one's group still has a process, and ends", async () => {
  // Not spawnSync: the left-behind sleep holds stdout, and is killed below.
  const first = loopRequest("aa11", 0, sessionWrapper({ token: "aa11", script: "sleep 30 >/dev/null 2>&1 & echo started" }));
  const child = spawn("/bin/sh", ["-c", remoteCommand(commandLoop())], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.stdin.write(first);
  const deadline = Date.now() + 10_000;
  while (!err.includes("<<troupe:aa11:done:0>>") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const pgid = Number(/<<troupe:aa11:pgid:(\d+)>>/.exec(err)?.[1]);
  assert.ok(pgid > 1, err);
  try {
    child.stdin.end(loopRequest("bb22", pgid, sessionWrapper({ token: "bb22", script: "echo must-not-run" })));
    assert.equal(await exited, 0);
    assert.match(err, new RegExp(`<<troupe:bb22:busy:${pgid}>>`));
    assert.doesNotMatch(out, /must-not-run/);
  } finally {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});

test("without setsid on the PATH the loop refuses at once with busy:0", () => {
  const r = runLoop([{ token: "aa11", script: "echo must-not-run" }], { ...process.env, PATH: "/nonexistent" });
  assert.equal(r.status, 0);
  assert.equal(r.out, "");
  assert.deepEqual(r.markers, [["aa11", "busy", 0]]);
});

test("a command killed by a signal ends with done but no exit status", () => {
  const r = runLoop([
    { token: "aa11", script: "kill -KILL 0" },
    { token: "bb22", script: "echo next" },
  ]);
  const of = (token: string): string[] => r.markers.filter(([t]) => t === token).map(([, k, v]) => (k === "pgid" ? "pgid" : `${k}:${v}`));
  assert.deepEqual(of("aa11").sort(), ["done:137", "done:137", "pgid"]);
  assert.equal(r.out, "next\n");
});
