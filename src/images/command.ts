// Run the system commands an image build needs (debootstrap, chroot, tar,
// mkfs.ext4, lxc): output to a log file, not the terminal; an abort signal
// kills the command's whole process group and waits for it to be gone; a
// failure is a TroupeError that says what failed with the log's last lines.

import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { TroupeError, type ErrorCode } from "../util/errors.js";

/** PATH for what builds run, whatever the caller's PATH is (debootstrap and mkfs live in sbin). */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface CommandOptions {
  /** Where stdout and stderr go (appended); without it they are kept in memory and returned. */
  readonly log?: string;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** What the error says failed ("debootstrap bookworm"). */
  readonly what: string;
  /** The error's code (default E_BACKEND). */
  readonly code?: ErrorCode;
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Thrown when the signal aborted the command (after it is gone). */
export function interrupted(what: string): TroupeError {
  return new TroupeError("E_INTERRUPTED", `interrupted during ${what}`);
}

/**
 * Run `cmd args`; resolves when it exits 0. The command gets a process group
 * of its own (a terminal's Ctrl-C reaches troupe, which kills the group and
 * cleans up) and, through setpriv's parent-death signal where `orphanKill`
 * is set, dies with troupe if troupe is killed outright.
 */
export async function runCommand(cmd: string, args: readonly string[], o: CommandOptions): Promise<CommandResult> {
  if (o.signal?.aborted) throw interrupted(o.what);
  const log = o.log ? createWriteStream(o.log, { flags: "a" }) : undefined;
  let stdout = "";
  let stderr = "";
  const child = spawn(cmd, [...args], {
    detached: true,
    stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, PATH: SYSTEM_PATH, LC_ALL: "C.UTF-8", DEBIAN_FRONTEND: "noninteractive", ...o.env },
  });
  const take =
    (keep: (s: string) => void) =>
    (b: Buffer): void => {
      if (log) log.write(b);
      else keep(b.toString("utf8"));
    };
  child.stdout?.on(
    "data",
    take((s) => (stdout += s)),
  );
  child.stderr?.on(
    "data",
    take((s) => (stderr += s)),
  );
  if (o.input !== undefined) {
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(o.input);
  }
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  o.signal?.addEventListener("abort", killGroup, { once: true });
  let result: { code: number | null; signal: NodeJS.Signals | null };
  try {
    result = await new Promise((resolve, reject) => {
      child.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new TroupeError(
            "E_BACKEND",
            err.code === "ENOENT" ? `${o.what}: ${cmd} is not installed` : `${o.what}: cannot run ${cmd}: ${err.message}`,
          ),
        ),
      );
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
  } finally {
    o.signal?.removeEventListener("abort", killGroup);
    // The group may outlive its leader (a grandchild still writing): make sure it is gone too.
    if (o.signal?.aborted && child.pid) await groupGone(child.pid, killGroup);
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
  if (o.signal?.aborted) throw interrupted(o.what);
  if (result.code !== 0) {
    const text = o.log ? await readFile(o.log, "utf8").catch(() => "") : stderr || stdout;
    const tail = text.trim().split("\n").slice(-3).join("; ");
    const where = o.log ? ` (log: ${o.log})` : "";
    throw new TroupeError(o.code ?? "E_BACKEND", `${o.what} failed: ${tail || `exit status ${result.code ?? result.signal}`}${where}`);
  }
  return { stdout, stderr };
}

/** Kill process group `pgid` until none of it is left (SIGKILL cannot be refused: a few rounds at most). */
async function groupGone(pgid: number, kill: () => void): Promise<void> {
  for (let i = 0; i < 100; i++) {
    kill();
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The arguments that run `args` in a private mount namespace (mounts it
 * makes, like debootstrap's /proc, vanish with it), killed if troupe dies.
 */
export function isolated(args: readonly string[]): [string, string[]] {
  return ["setpriv", ["--pdeathsig", "SIGKILL", "--", "unshare", "--mount", "--propagation", "private", "--kill-child", "--", ...args]];
}
