// `mkdir -p` that always ends. Node's own `mkdir(dir, { recursive: true })`
// spins forever where mkdir fails with ENOENT although the parent exists
// (under /proc, say): a results path a user mistyped must be an error, not
// a hang. This one walks up at most once per path component.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/** Make `dir` and its missing parents; throws the first error that more parents cannot fix. */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    const parent = dirname(dir);
    if (code !== "ENOENT" || parent === dir) throw err;
    await makeDirs(parent);
    try {
      await mkdir(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== "EEXIST") throw again;
    }
  }
}
