// `.troupe/latest`: a link to the newest run's results, so that people and
// CI scripts find them without knowing the run id (`.troupe/latest/run.json`).

import { randomBytes } from "node:crypto";
import { rename, rm, symlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

/** Point `link` (default `<runs>/../latest`) at `runDir` (`.troupe/runs/<id>`), replacing the old link at once. */
export async function pointLatest(runDir: string, link = join(dirname(dirname(runDir)), "latest")): Promise<void> {
  const tmp = `${link}.${randomBytes(4).toString("hex")}`;
  // Relative, so that the link still works when the project is moved or mounted elsewhere.
  await symlink(relative(dirname(link), runDir), tmp);
  try {
    await rename(tmp, link);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
