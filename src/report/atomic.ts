// Replace a file's content so that a reader sees the old or the new content,
// never a half-written file: write a temporary file next to it, then rename.

import { rename, unlink, writeFile } from "node:fs/promises";

let counter = 0;

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${++counter}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
