// Finding the prometheus binary and making sure no server outlives troupe:
// every server started is registered here; if troupe's process exits without
// stopping one, the exit hook closes its input, as stop() does, and its
// watchdog sends Prometheus SIGTERM (it then writes its data out and exits by
// itself). Should troupe die without running the hook, the pipe closes all
// the same.

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { TroupeError } from "../util/errors.js";
import { which } from "../util/which.js";

const live = new Set<ChildProcess>();
let hooked = false;

export function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const c of live) c.stdin?.destroy();
    });
  }
}

/** The path of `binary` (a path, or a name looked up in PATH); a clear error when there is none. */
export function findBinary(binary: string): string {
  const found = which(binary);
  if (found) return found;
  throw new TroupeError(
    "E_UNSUPPORTED",
    `prometheus: ${binary} not found${binary.includes("/") ? "" : " in PATH"}: install Prometheus (Debian: apt-get install prometheus) or give the path of its binary`,
  );
}

/** The last `lines` lines of a log file ("" when it cannot be read). */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
