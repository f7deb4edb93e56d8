// Run a system command for the lab (ip, mount, sh) and turn failure into a
// TroupeError E_BACKEND that says what failed and why.

import { spawn } from "node:child_process";
import { TroupeError } from "../../util/errors.js";

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PATH for commands the lab runs, whatever the caller's PATH is. */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function run(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      // Out of the terminal's process group: a second Ctrl-C must not cut a teardown in half.
      detached: true,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, PATH: SYSTEM_PATH, LC_ALL: "C" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.once("error", (err) => reject(new TroupeError("E_BACKEND", `lab: cannot run ${cmd}: ${err.message}`)));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) {
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(input);
    }
  });
}

/** Run a shell script; E_BACKEND (saying `what`) unless it exits 0. */
export async function sh(script: string, what: string): Promise<RunResult> {
  const r = await run("/bin/sh", ["-c", script]);
  if (r.code !== 0) {
    const detail = r.stderr.trim().split("\n").slice(-4).join("; ") || `exit status ${r.code}`;
    throw new TroupeError("E_BACKEND", `lab: cannot ${what}: ${detail}`);
  }
  return r;
}
