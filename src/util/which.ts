// Where a program is: a path as given, or a name looked up in PATH.

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of `binary` (a path, or a name looked up in `path`), or undefined when it cannot be run. */
export function which(binary: string, path = process.env["PATH"] ?? ""): string | undefined {
  if (binary.includes("/")) return executable(binary) ? binary : undefined;
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((d) => join(d, binary))
    .find(executable);
}
