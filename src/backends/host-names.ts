// Host names unique in a run: a backend claims `<runDir>/hosts/<name>` with
// mkdir, which fails when another host (of any backend) has the name, and
// tries the next candidate: the wanted name, the backend-prefixed one, then
// numbered ones.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { TroupeError } from "../util/errors.js";

export interface ClaimRequest {
  /** `<runDir>/hosts`. */
  readonly hostsDir: string;
  readonly backend: string;
  readonly system: string;
  /** Counts the system's hosts from 1. */
  readonly index: number;
  /** The name the caller would like (a scenario's `node-3`). */
  readonly wanted?: string;
  /** Makes a candidate a valid name (a hostname, a container name). */
  readonly clean: (text: string) => string;
}

/** Claim a free name; returns it with its folder in the run directory. */
export async function claimHostName(r: ClaimRequest): Promise<{ name: string; dir: string }> {
  await mkdir(r.hostsDir, { recursive: true });
  const wanted = r.wanted ?? `${r.system}-${r.index}`;
  const base = r.clean(wanted);
  const tries = [base, r.clean(`${r.backend}-${wanted}`)];
  for (let n = 2; tries.length < 100; n++) tries.push(`${base}-${n}`);
  for (const name of tries) {
    const dir = join(r.hostsDir, name);
    try {
      await mkdir(dir);
      return { name, dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  throw new TroupeError("E_BACKEND", `${r.backend}: cannot find a free host name for ${r.system} in ${r.hostsDir}`);
}
