// How large an input file troupe reads may be (project files, task.yaml,
// scenarios, inventories, reuse files): a file over the limit is refused from
// its size, at its first line. Apart from the YAML limits (yaml-limits.ts) so
// that reading an INI inventory does not load the YAML parser.

import type { Problem } from "../util/errors.js";

/** The largest file troupe reads as YAML, JSON or an INI inventory. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

/** `4 MiB`, `312 KiB`: for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Number((n / (1024 * 1024)).toFixed(1))} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

/** The problem with text too large to read, at its first line; undefined when it is small enough. */
export function inputTooLarge(size: number, file: string, maxBytes: number = MAX_INPUT_BYTES): Problem | undefined {
  if (size <= maxBytes) return undefined;
  return {
    pos: { file, line: 1, col: 1 },
    message: `the file is ${formatBytes(size)}, more than troupe reads (${formatBytes(maxBytes)}); make it smaller`,
  };
}
