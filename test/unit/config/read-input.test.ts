import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readInput, readInputSync } from "../../../src/config/read-input.js";
import { formatProblem, isTroupeError } from "../../../src/util/errors.js";

const dir = mkdtempSync(join(tmpdir(), "read-input-"));

function refusal(e: unknown): string {
  assert.ok(isTroupeError(e), String(e));
  assert.equal(e.code, "E_YAML");
  return e.problems.map(formatProblem).join("\n");
}

/** A FIFO with a writer that writes `bytes` bytes into it and then closes it. */
function fifoWith(name: string, bytes: number): string {
  const path = join(dir, name);
  assert.equal(spawnSync("mkfifo", [path]).status, 0);
  spawn("sh", ["-c", `head -c ${bytes} /dev/zero | tr '\\0' x > "$1"`, "sh", path], { stdio: "ignore" });
  return path;
}

for (const [how, read] of [
  ["readInput", (p: string, shown: string, max?: number) => readInput(p, shown, max)],
  ["readInputSync", (p: string, shown: string, max?: number) => Promise.resolve().then(() => readInputSync(p, shown, max))],
] as const) {
  describe(how, () => {
    it("reads a file within the limit", async () => {
      const file = join(dir, `${how}-small.yaml`);
      writeFileSync(file, "a: é\n");
      assert.equal(await read(file, "small.yaml", 6), "a: é\n");
    });

    it("refuses a larger file at its first line, saying what to do", async () => {
      const file = join(dir, `${how}-big.yaml`);
      writeFileSync(file, "x".repeat(2049));
      await assert.rejects(read(file, "big.yaml", 2048), (e) => {
        assert.equal(refusal(e), "big.yaml:1:1: the file is 2 KiB, more than troupe reads (2 KiB); make it smaller");
        return true;
      });
    });

    it("reads a pipe up to one byte past the limit, then refuses it", async () => {
      await assert.rejects(read(fifoWith(`${how}-endless`, 10_000_000), "<pipe>", 1000), (e) => {
        assert.match(refusal(e), /^<pipe>:1:1: the file is 1001 bytes, more than troupe reads \(1000 bytes\)/);
        return true;
      });
      assert.equal(await read(fifoWith(`${how}-short`, 1000), "<pipe>", 1000), "x".repeat(1000));
    });

    it("passes file system errors on as they are", async () => {
      await assert.rejects(read(join(dir, "missing.yaml"), "missing.yaml"), { code: "ENOENT" });
    });
  });
}
