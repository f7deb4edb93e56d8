// Apply a recipe's configuration to a root filesystem on disk: files
// written, links made, files removed. A path that is a symbolic link inside
// the tree is replaced, never written through (it could point at the
// builder's own files).

import { chmod, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Configuration } from "./recipe.js";

export async function configure(root: string, c: Configuration): Promise<void> {
  for (const f of c.files) {
    const p = join(root, f.path);
    await mkdir(dirname(p), { recursive: true });
    await rm(p, { force: true });
    await writeFile(p, f.content, { mode: f.mode });
    await chmod(p, f.mode);
  }
  for (const l of c.links) {
    const p = join(root, l.path);
    await mkdir(dirname(p), { recursive: true });
    await rm(p, { force: true });
    await symlink(l.target, p);
  }
  for (const path of c.remove) await rm(join(root, path), { force: true });
}
