// Symbolic links in fetched artifacts that lead out of the job's folder are
// removed. A link's target is resolved as the kernel would, component by
// component from the link's folder, following the links it meets on the way
// (those on disk now, wherever they came from in the tar stream): a lexical
// look at one target cannot see that `l -> .` makes `esc ->
// l/l/l/../../../..` climb four levels, or that `d -> .` makes `up -> d/..`
// the folder's parent. A link is kept only when its whole resolution stays
// inside: an absolute target, a step above the folder at any point, or more
// than MAX_HOPS links (a loop, or a chain the kernel would refuse with
// ELOOP) and it goes. Then whoever follows links in the folder (a CI step
// uploading artifacts, `cp -rL`) cannot reach the orchestrator's files.

import { lstat, readdir, readlink, rm } from "node:fs/promises";
import path from "node:path";

/** Links followed in one resolution, as Linux's limit (ELOOP). */
export const MAX_HOPS = 40;

/** Remove every symbolic link under `dir` whose target leads out of it; returns their paths, relative to `dir`. */
export async function dropLinksOut(dir: string): Promise<string[]> {
  const dropped: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isSymbolicLink() && !(await staysInside(dir, child))) {
        await rm(path.join(dir, child), { force: true });
        dropped.push(child);
      }
    }
  };
  await walk("");
  return dropped;
}

/** Whether the link at `rel` (relative to `root`, in a folder reached without links) resolves inside `root`. */
export async function staysInside(root: string, rel: string): Promise<boolean> {
  // Resolved components, none of them a link, from root.
  const at = rel.split("/");
  // The link itself is the first component to resolve, from its folder.
  let pending = [at.pop() as string];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (at.length === 0) return false;
      at.pop();
      continue;
    }
    const full = path.join(root, ...at, c);
    let isLink: boolean;
    try {
      isLink = (await lstat(full)).isSymbolicLink();
    } catch {
      // A name that is not there leads nowhere: what follows is read as written.
      at.push(c);
      continue;
    }
    if (!isLink) {
      at.push(c);
      continue;
    }
    if (++hops > MAX_HOPS) return false;
    const target = await readlink(full);
    if (target.startsWith("/")) return false;
    pending = [...target.split("/"), ...pending];
  }
  return true;
}
