// A script the local transport starts with spawn (one that reads input, or
// starts while the host's fork server is busy) is not in the shell's
// arguments, which every user of the machine can read.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { LocalTransport } from "../../../src/transport/local.js";

const SECRET = ["local", "argv", process.pid, Date.now()].join("-");

function argvShowing(value: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (args.includes(value)) found.push(`${pid}: ${args.split("\0").join(" ")}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test("a script with input, holding a value in its text, runs with that value in no process's arguments", async () => {
  const t = new LocalTransport({ label: "argv" });
  const input = new PassThrough();
  let out = "";
  let showing: string[] | undefined;
  try {
    const r = await t.exec({
      // The value is in the script's text (as a prelude's exports put it): the shell waits for its input.
      script: `token='${SECRET}'; echo ready; read line; echo "got $line \${#token}"`,
      stdin: input,
      onStdout: (b) => {
        out += b.toString();
        if (out.includes("ready") && showing === undefined) {
          showing = argvShowing(SECRET);
          input.end("go\n");
        }
      },
    });
    assert.equal(r.exitCode, 0);
    assert.equal(out, `ready\ngot go ${SECRET.length}\n`);
    assert.deepEqual(showing, []);
  } finally {
    await t.close();
  }
});
