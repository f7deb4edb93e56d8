// docs/api.md's examples, run as they are written: each TypeScript block
// that does something is stripped of its types by TypeScript itself, its
// `from "troupe"` pointed at this checkout, and run in a process of its own
// from the repository's root, against the examples project and a lab of
// its own. A block that stops working fails here.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO, troupe } from "../cli/helpers.js";

const LAB = "docapi";
const RUNS = join(REPO, "examples", "basics", ".troupe", "runs");
const runsBefore = new Set(existsSync(RUNS) ? readdirSync(RUNS) : []);

/** The examples' runs go with the test (anyone else's stay). */
function removeOurRuns(): void {
  for (const r of existsSync(RUNS) ? readdirSync(RUNS) : [])
    if (!runsBefore.has(r)) rmSync(join(RUNS, r), { recursive: true, force: true });
}

const blocks = [...readFileSync(join(REPO, "docs", "api.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => /\bawait\b/.test(code));

function runBlock(code: string): { status: number | null; out: string } {
  const index = new URL("../../../src/index.js", import.meta.url).href;
  const js = ts.transpileModule(code.replace(/from "troupe"/g, `from ${JSON.stringify(index)}`).replace(/lab:demo/g, `lab:${LAB}`), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", js], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test("docs/api.md's examples run as written", () => {
  assert.ok(blocks.length >= 6, `found ${blocks.length} examples`);
  const up = troupe(["lab", "up", "2", "--name", LAB]);
  assert.equal(up.status, 0, up.stderr);
  try {
    for (const code of blocks) {
      const r = runBlock(code);
      assert.equal(r.status, 0, `${code}\n----- printed:\n${r.out}`);
    }
  } finally {
    removeOurRuns();
    const down = troupe(["lab", "down", "--name", LAB]);
    assert.equal(down.status, 0, down.stderr);
  }
});

test("the examples print what the comments say", () => {
  const first = runBlock(blocks[0]!);
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, /^0$/m, "exit status 0: the checks passed");
  assert.match(first.out, /^local:localhost:checks\/greet:\w+ passed \d+ $/m);
  assert.match(first.out, /^results in \S+\/examples\/basics\/\.troupe\/runs\/\S+$/m);
  const pool = runBlock(blocks.find((b) => b.includes("new HostPool"))!);
  removeOurRuns();
  assert.equal(pool.status, 0, pool.out);
  assert.match(pool.out, /^localhost-1 Linux$/m);
});
