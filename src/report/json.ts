// `--json FILE`: a copy of the run's run.json at a place the user chose, and
// reading a run.json back (to make a JUnit report after the fact).

import { readFile } from "node:fs/promises";
import { makeDirs } from "../util/mkdirs.js";
import { dirname } from "node:path";
import { TroupeError } from "../util/errors.js";
import { writeFileAtomic } from "./atomic.js";
import { RUN_JSON_FORMAT, type RunJson } from "./run-json.js";

/** The text of run.json: pretty-printed, newline-terminated. */
export function toJson(run: RunJson): string {
  return JSON.stringify(run, null, 2) + "\n";
}

/** Write `run` to `file` atomically, creating its directory. */
export async function writeJson(run: RunJson, file: string): Promise<void> {
  await makeDirs(dirname(file));
  await writeFileAtomic(file, toJson(run));
}

/** Read a run.json written by troupe; E_SCHEMA when it is not one. */
export async function readRunJson(file: string): Promise<RunJson> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new TroupeError("E_YAML", { pos: { file, line: 1, col: 1 }, message: `cannot read run.json: ${(err as Error).message}` });
  }
  const obj = data as Partial<RunJson> | null;
  if (obj === null || typeof obj !== "object" || obj.format !== RUN_JSON_FORMAT || !Array.isArray(obj.jobs)) {
    throw new TroupeError("E_SCHEMA", {
      pos: { file, line: 1, col: 1 },
      message: `not a troupe run.json (expected "format": "${RUN_JSON_FORMAT}")`,
    });
  }
  return obj as RunJson;
}
