// Finding the project file: troupe.yaml, spread.yaml or .spread.yaml in the
// start directory or the nearest parent that has one (Spread looks upwards too).

import { stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { TroupeError } from "../util/errors.js";

/** In order of preference within one directory. */
export const PROJECT_FILE_NAMES = ["troupe.yaml", "spread.yaml", ".spread.yaml"] as const;

export async function findProjectFile(startDir: string): Promise<string> {
  const start = resolve(startDir);
  let dir = start;
  for (;;) {
    for (const name of PROJECT_FILE_NAMES) {
      const candidate = join(dir, name);
      if (await isFile(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new TroupeError("E_NOT_FOUND", {
    message:
      `no troupe.yaml, spread.yaml or .spread.yaml in ${start} or any directory above it; ` +
      "run troupe inside a project, pass its directory with --project DIR, or create a troupe.yaml (project: NAME and suites:)",
  });
}

/** "spread" for spread.yaml and .spread.yaml, read exactly as Spread reads them. */
export function flavourOf(file: string): "troupe" | "spread" {
  const name = basename(file);
  return name === "spread.yaml" || name === ".spread.yaml" ? "spread" : "troupe";
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
