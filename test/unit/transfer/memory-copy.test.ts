// Working copies in memory (local backend): made on tmpfs and linked, removed
// with their link on discard, left on disk when turned off, and copies of a
// dead troupe process swept.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { createLocalDriver } from "../../../src/backends/local/index.js";
import type { Backend, System } from "../../../src/model/project.js";
import { buildProjectBundle, unpackLocal } from "../../../src/transfer/bundle.js";
import { memoryCopyDir } from "../../../src/transfer/memory-copy.js";
import { tempDir, writeTree } from "./helpers.js";

const shmIsTmpfs = ((): boolean => {
  try {
    return statfsSync("/dev/shm").type === 0x01021994;
  } catch {
    return false;
  }
})();

test("this machine has a tmpfs at /dev/shm (the tests below need it)", () => {
  assert.ok(shmIsTmpfs, "/dev/shm is not a tmpfs here");
});

async function bundleOf(dir: string): Promise<Awaited<ReturnType<typeof buildProjectBundle>>> {
  const src = path.join(dir, "src");
  await writeTree(src, { "a/task.yaml": "summary: a\n", "b/file.txt": "hello\n" });
  return buildProjectBundle({ projectDir: src, include: [], exclude: [], rename: [], outDir: path.join(dir, "out") });
}

test("a small project's copy is made in memory, linked from its place, and removed with the link on discard", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const bundle = await bundleOf(dir);
    assert.ok(bundle.tarBytes >= 10240 && bundle.tarBytes > bundle.bytes, `tarBytes ${bundle.tarBytes}`);
    const backend = { name: "local", type: "local" } as unknown as Backend;
    const driver = createLocalDriver(backend, { runDir: path.join(dir, "run"), projectDir: dir } as never);
    const host = await driver.allocate({ name: "sys" } as System, 1);
    await unpackLocal(bundle, host.projectPath, { inMemory: true });
    assert.ok(lstatSync(host.projectPath).isSymbolicLink());
    const target = readlinkSync(host.projectPath);
    assert.match(target, /^\/dev\/shm\/troupe-\d+\/\d+-/);
    assert.equal(readFileSync(path.join(host.projectPath, "b/file.txt"), "utf8"), "hello\n");
    await driver.discard(host);
    assert.equal(existsSync(target), false, "the copy in memory is gone");
    assert.equal(existsSync(host.projectPath) || lstatSync(host.projectPath, { throwIfNoEntry: false }) !== undefined, false);
  } finally {
    await cleanup();
  }
});

test("TROUPE_COPIES_IN_MEMORY=0 keeps copies on disk; so does a copy too large to fit", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const bundle = await bundleOf(dir);
    process.env.TROUPE_COPIES_IN_MEMORY = "0";
    try {
      const copy = path.join(dir, "w1");
      await unpackLocal(bundle, copy, { inMemory: true });
      assert.ok(lstatSync(copy).isDirectory());
      assert.equal(readFileSync(path.join(copy, "a/task.yaml"), "utf8"), "summary: a\n");
    } finally {
      delete process.env.TROUPE_COPIES_IN_MEMORY;
    }
    assert.equal(memoryCopyDir(Number.MAX_SAFE_INTEGER), undefined);
  } finally {
    await cleanup();
  }
});

test("copies left by a troupe process that died are swept by the next one", () => {
  const root = `/dev/shm/troupe-${process.getuid?.() ?? "user"}`;
  mkdirSync(root, { recursive: true });
  // A pid that surely is not running: a child that has exited.
  const dead = spawnSync("true").pid;
  const orphan = path.join(root, `${dead}-test-1`);
  mkdirSync(orphan, { recursive: true });
  writeFileSync(path.join(orphan, "left"), "x");
  // A fresh process sweeps on its first copy.
  const r = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { memoryCopyDir } from ${JSON.stringify(new URL("../../../src/transfer/memory-copy.js", import.meta.url).href)};
     const d = memoryCopyDir(1000); await new Promise((r) => setTimeout(r, 300)); console.log(d ?? "none");`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(orphan), false, "the dead process's copy was swept");
});
