import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { keysByValue } from "../../../src/util/exit-sweep.js";

const moduleUrl = new URL("../../../src/util/exit-sweep.js", import.meta.url).href;

/** Runs `body` in a child Node process with ExitSweep imported; returns its stdout. */
function child(body: string): { stdout: string; status: number | null } {
  const code = `import { ExitSweep } from ${JSON.stringify(moduleUrl)};\n${body}`;
  const res = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
    cwd: fileURLToPath(new URL(".", import.meta.url)),
  });
  assert.equal(res.stderr, "");
  return { stdout: res.stdout, status: res.status };
}

describe("ExitSweep", () => {
  it("sweeps what is left when the process exits, whatever ends it", () => {
    const res = child(`
      const sweep = new ExitSweep((left) => console.log("swept", [...left.keys()].join(","), [...left.values()].join(",")));
      sweep.set("a", 1); sweep.set("b", 2); sweep.set("c", 3); sweep.delete("b");
      process.exit(7);
    `);
    assert.equal(res.stdout, "swept a,c 1,3\n");
    assert.equal(res.status, 7);
  });

  it("does not call the sweep when everything was removed in order", () => {
    const res = child(`
      const sweep = new ExitSweep(() => console.log("swept"));
      sweep.set("a", 1); sweep.delete("a");
    `);
    assert.equal(res.stdout, "");
  });

  it("adds one exit listener however many items come and go", () => {
    const res = child(`
      const before = process.listenerCount("exit");
      const sweep = new ExitSweep(() => undefined);
      for (let i = 0; i < 50; i++) { sweep.set(String(i), i); sweep.delete(String(i)); }
      console.log(process.listenerCount("exit") - before);
    `);
    assert.equal(res.stdout, "1\n");
  });
});

describe("keysByValue", () => {
  it("groups keys by their value, in insertion order", () => {
    const engines = new Map([
      ["c1", "engine-a"],
      ["c2", "engine-b"],
      ["c3", "engine-a"],
    ]);
    assert.deepEqual(
      [...keysByValue(engines)],
      [
        ["engine-a", ["c1", "c3"]],
        ["engine-b", ["c2"]],
      ],
    );
  });
});
