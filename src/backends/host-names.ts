// Host names unique in a run, across every backend: a name is claimed by
// making `<runDir>/hosts/<name>` (mkdir is atomic), the wanted name first,
// then the same with the backend's name before it, then numbered ones.

import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { TroupeError } from "../util/errors.js";

export interface NameRequest {
  readonly runDir: string;
  readonly backend: string;
  readonly system: string;
  /** Counts hosts of the system from 1. */
  readonly index: number;
  /** The name the caller would like (a scenario's `node-3`); `<system>-<index>` by default. */
  readonly wanted?: string;
  /** Makes a name the backend can use (a hostname, a file name). */
  readonly sanitize: (name: string) => string;
}

/** Claim a free name; its folder `<runDir>/hosts/<name>` exists afterwards. */
export async function claimHostName(r: NameRequest): Promise<string> {
  const hostsDir = resolve(r.runDir, "hosts");
  await mkdir(hostsDir, { recursive: true });
  const wanted = r.wanted ?? `${r.system}-${r.index}`;
  const base = r.sanitize(wanted);
  const tries = [base, r.sanitize(`${r.backend}-${wanted}`)];
  for (let n = 2; tries.length < 100; n++) tries.push(`${base}-${n}`);
  for (const name of tries) {
    try {
      await mkdir(join(hostsDir, name));
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  throw new TroupeError("E_BACKEND", `${r.backend}: cannot find a free host name for ${r.system} in ${hostsDir}`);
}
