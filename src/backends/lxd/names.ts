// Container names, as Spread makes them (`spread-12-ubuntu-22-04`: a count
// kept in ~/.spread/lxd-count, then the system's name with its dots made
// dashes), but troupe's: `troupe-12-debian-12`, counted in
// ~/.troupe/lxd-count. Two processes may read the same count: the launch
// that finds the name taken tries the next one.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Mutex } from "../../util/limit.js";
import { LxcError } from "./client.js";

/** `troupe-N-SYSTEM`: letters, digits and dashes, at most 63 characters, as LXD wants. */
export function containerName(n: number, systemName: string): string {
  const system = systemName.replace(/[^A-Za-z0-9-]/g, "-");
  return `troupe-${n}-${system}`.slice(0, 63).replace(/-+$/, "");
}

export function countFile(home = homedir()): string {
  return join(home, ".troupe", "lxd-count");
}

const counting = new Mutex();

/** The next count: one more than the file says (0 when it is missing or unreadable). */
export function nextCount(file = countFile()): Promise<number> {
  return counting.run(async () => {
    let n = 0;
    try {
      const text = (await readFile(file, "utf8")).trim();
      if (/^\d+$/.test(text)) n = Number(text);
    } catch {
      n = 0;
    }
    n++;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, String(n));
    return n;
  });
}

/**
 * `lxc launch` said the name is taken: another troupe process counted the
 * same. LXD says so in two ways: the instance exists, or another launch is
 * creating it at this moment ("Instance is busy running a "create"
 * operation"). The lxc command line has no error codes; its text is all
 * there is. Either way the container is not ours and must not be deleted.
 */
export function nameTaken(err: unknown): boolean {
  return err instanceof LxcError && /already exists|is busy running a "create" operation/i.test(err.output.stderr);
}
