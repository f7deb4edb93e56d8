// Reading an input file (project file, task.yaml, scenario, inventory) with
// its size bounded: a file over the limit is refused from its size, before it
// is read; a pipe (`troupe play <(...)`) is read up to one byte past the
// limit and refused there. Errors from the file system are thrown as they are, for the caller
// to word (ENOENT, EACCES, ...).

import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { TroupeError } from "../util/errors.js";
import { inputTooLarge, MAX_INPUT_BYTES } from "./input-size.js";

/** The text of `path` (UTF-8); a TroupeError E_YAML at `shown:1:1` when it is larger than `maxBytes`. */
export async function readInput(path: string, shown: string, maxBytes: number = MAX_INPUT_BYTES): Promise<string> {
  const handle = await open(path, "r");
  try {
    const info = await handle.stat();
    if (info.isFile()) {
      refuseIfLarger(info.size, shown, maxBytes);
      return await handle.readFile("utf8");
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(64 * 1024, maxBytes + 1 - total);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      refuseIfLarger(total, shown, maxBytes);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** readInput, synchronously (the suite loader reads task files this way). */
export function readInputSync(path: string, shown: string, maxBytes: number = MAX_INPUT_BYTES): string {
  const fd = openSync(path, "r");
  try {
    const info = fstatSync(fd);
    if (info.isFile()) {
      refuseIfLarger(info.size, shown, maxBytes);
      return readFileSync(fd, "utf8");
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(64 * 1024, maxBytes + 1 - total);
      const buffer = Buffer.allocUnsafe(want);
      const bytesRead = readSync(fd, buffer, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      refuseIfLarger(total, shown, maxBytes);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function refuseIfLarger(size: number, shown: string, maxBytes: number): void {
  const problem = inputTooLarge(size, shown, maxBytes);
  if (problem) throw new TroupeError("E_YAML", problem);
}
