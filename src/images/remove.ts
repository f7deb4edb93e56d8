// `troupe image rm NAME`: the outputs called NAME that troupe made (docker's
// NAME:latest when it carries troupe's label, LXD's images with troupe's
// properties naming NAME, ~/.spread/qemu/NAME.* when troupe installed them
// and they are unchanged), and when NAME is a system, the store's entries of
// it (every recipe). Nothing troupe did not make is touched.

import { rm } from "node:fs/promises";
import { TroupeError } from "../util/errors.js";
import { checkDocker, dockerRemove } from "./docker-output.js";
import { checkLxd, lxdRemove } from "./lxd-output.js";
import { uninstallQemu } from "./qemu-output.js";
import { outputName } from "./recipe.js";
import { entryPaths, listEntries, lockEntry, storeDir } from "./store.js";

export interface RemoveResult {
  /** What was removed, one line each. */
  readonly removed: readonly string[];
  /** What could not be looked at (an engine that is not running), one line each. */
  readonly skipped: readonly string[];
}

export async function removeImage(name: string, store: string = storeDir()): Promise<RemoveResult> {
  outputName(name);
  const removed: string[] = [];
  const skipped: string[] = [];
  for (const e of (await listEntries(store)).filter((x) => x.recipe.name === name)) {
    const lock = await lockEntry(store, e.key, () => undefined);
    try {
      await rm(e.dir, { recursive: true, force: true });
    } finally {
      await lock.release();
    }
    removed.push(`store: ${e.dir}`);
  }
  const engine = async (what: string, check: () => Promise<void>, fn: () => Promise<void>): Promise<void> => {
    try {
      await check();
    } catch (err) {
      if (err instanceof TroupeError && err.code === "E_BACKEND") return void skipped.push(`${what}: ${err.message}`);
      throw err;
    }
    await fn();
  };
  await engine("docker", checkDocker, async () => {
    const r = await dockerRemove(name);
    if (r === "removed") removed.push(`docker: ${name}:latest`);
    else if (r === "not troupe's") skipped.push(`docker: ${name}:latest is not troupe's image: left alone`);
  });
  await engine("lxd", checkLxd, async () => {
    for (const fp of await lxdRemove(name)) removed.push(`lxd: ${name} (${fp.slice(0, 12)})`);
  });
  if (await uninstallQemu(name)) removed.push(`qemu: ~/.spread/qemu/${name}.img, .vmlinuz, .initrd`);
  // The records of outputs called NAME in entries that stay.
  for (const e of await listEntries(store)) {
    for (const r of e.outputs.filter((x) => x.name === name))
      await rm(entryPaths(store, e.key, e.recipe.name).output(r.target, name), { force: true });
  }
  if (!removed.length) {
    throw new TroupeError("E_USAGE", `image rm: troupe has no image ${name} (troupe image list shows what it has)`);
  }
  return { removed, skipped };
}
