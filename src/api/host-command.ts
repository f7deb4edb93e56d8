// `$(HOST:cmd)` in environment values runs on the orchestrator, once per run
// per distinct command (plan/ caches); this is the I/O half of that.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { TroupeError } from "../util/errors.js";

const SHELL = existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";

export function makeHostCommand(cwd: string): (cmd: string) => string {
  return (cmd: string): string => {
    try {
      const out = execFileSync(SHELL, ["-c", cmd], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return out.replace(/\n+$/, "");
    } catch (err) {
      const e = err as { stderr?: string; status?: number | null };
      const msg = (e.stderr ?? "").trim().split("\n").join("; ") || `exit status ${e.status ?? "unknown"}`;
      throw new TroupeError("E_PROJECT", `$(HOST:${cmd}) returned error: ${msg}`);
    }
  };
}
