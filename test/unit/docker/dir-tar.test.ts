// The one-entry tar that makes a directory in a container, read back by tar.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import * as tar from "tar";
import { directoryTar } from "../../../src/backends/docker/dir-tar.js";

async function entries(buf: Buffer): Promise<{ path: string; type: string; mode: number | undefined }[]> {
  const out: { path: string; type: string; mode: number | undefined }[] = [];
  await new Promise<void>((resolve, reject) => {
    const p = new tar.Parser({ strict: true, onReadEntry: (e) => (out.push({ path: e.path, type: e.type, mode: e.mode }), e.resume()) });
    p.once("end", resolve);
    p.once("error", reject);
    Readable.from([buf]).pipe(p);
  });
  return out;
}

test("a directory entry named from /, with its mode, that tar reads without complaint", async () => {
  assert.deepEqual(await entries(directoryTar("/srv/project")!), [{ path: "srv/project/", type: "Directory", mode: 0o755 }]);
  assert.deepEqual(await entries(directoryTar("//home/u/p//", 0o700)!), [{ path: "home/u/p/", type: "Directory", mode: 0o700 }]);
});

test("a long name goes in ustar's prefix field", async () => {
  const dir = `/${"a".repeat(90)}/${"b".repeat(60)}/c`;
  assert.deepEqual(await entries(directoryTar(dir)!), [{ path: `${dir.slice(1)}/`, type: "Directory", mode: 0o755 }]);
});

test("no archive for /, for . or .. parts, or for a name ustar cannot hold", () => {
  assert.equal(directoryTar("/"), undefined);
  assert.equal(directoryTar("/srv/../etc"), undefined);
  assert.equal(directoryTar("/srv/./x"), undefined);
  assert.equal(directoryTar(`/${"a".repeat(300)}`), undefined);
});
