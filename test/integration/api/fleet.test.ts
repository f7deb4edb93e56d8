// Issue 12: `troupe exec`'s API. A fleet holds its machines' connections in
// one host pool: commands run on every machine, and once the fleet is
// closed nothing keeps Node alive (resolveTargets' transports had to be
// closed one by one, or the process never exited).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { troupe } from "../cli/helpers.js";

test("a fleet runs a command on every lab host, and after close() the process exits by itself", async () => {
  const name = "fleetapi";
  const up = troupe(["lab", "up", "2", "--name", name]);
  assert.equal(up.status, 0, up.stderr);
  try {
    const index = new URL("../../../src/index.js", import.meta.url).href;
    // No process.exit: the child ends only if nothing is left holding the event loop.
    const program = `
      const { openFleet, collate } = await import(${JSON.stringify(index)});
      for (const client of ["inprocess", "openssh"]) {
        process.env.TROUPE_LAB_SSH = client;
        const fleet = await openFleet("lab:${name}");
        try {
          const results = await fleet.exec("hostname; echo same");
          console.log(client, JSON.stringify(results.map((r) => [r.name, r.exitCode, r.output])));
          console.log(client, "groups", collate(results).length);
        } finally {
          await fleet.close();
        }
      }
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", program], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    assert.equal(code, 0, out);
    for (const client of ["inprocess", "openssh"]) {
      const line = new RegExp(`^${client} (\\[.*\\])$`, "m").exec(out);
      assert.ok(line, out);
      assert.deepEqual(JSON.parse(line[1]!), [
        [`${name}-1`, 0, `${name}-1\nsame\n`],
        [`${name}-2`, 0, `${name}-2\nsame\n`],
      ]);
      assert.match(out, new RegExp(`^${client} groups 2$`, "m"));
    }
  } finally {
    const down = troupe(["lab", "down", "--name", name]);
    assert.equal(down.status, 0, down.stderr);
  }
});
