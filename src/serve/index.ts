// The live dashboard (`--serve`) for the front doors: run, play.

import type { Writable } from "node:stream";
import { LiveDashboard } from "./dashboard.js";

export { LiveDashboard } from "./dashboard.js";
export { parseServeAddress, isLoopback } from "./address.js";

/** Listen for `--serve`'s value and say the URL on `out` (a warning for a non-loopback address on stderr). */
export function startDashboard(
  serve: string | true,
  runDir: string,
  kind: "run" | "scenario",
  out: Writable | null,
): Promise<LiveDashboard> {
  return LiveDashboard.start({ serve, runDir, kind, out, err: out === null ? null : process.stderr });
}
