// Spread's `repack:` script: it reads the project tarball (plain tar) on
// file descriptor 3 and writes the tarball to send on file descriptor 4.
//
// Spread connects both to pipes; here fd 3 is the built tarball opened for
// reading and fd 4 the output file opened for writing, handed to the child
// through the stdio array. A script that reads or writes them as streams
// (`cat <&3 >&4`, `tar c ... >&4`) cannot tell the difference, and one that
// ignores fd 3 cannot stall the producer. Like Spread (localScript in
// spread/client.go), bash runs it, in the project directory, after the
// prelude of every script (exec/prelude.ts): `set -eu`, the helpers,
// Spread's PATH, the project's environment exported in order so that values
// use earlier ones (`MSG: $GREETING-world`, `PATH: $GOPATH/bin:$PATH`),
// `set -x`, and the script in a subshell with stdin from /dev/null. bash
// reads all of it on its stdin: no value is in its arguments.

import { spawn } from "node:child_process";
import { open, type FileHandle } from "node:fs/promises";
import { localBash, scriptBody } from "../exec/prelude.js";
import type { EnvVar } from "../model/job.js";
import { TroupeError } from "../util/errors.js";

/** How much of the script's output a failure message keeps. */
const MAX_OUTPUT = 64 * 1024;
const KILL_GRACE_MS = 1000;

export interface RepackOptions {
  readonly script: string;
  /** The project directory: the script's working directory. */
  readonly cwd: string;
  /** The project's environment, in order, as written (evaluated by the shell). */
  readonly environment?: readonly EnvVar[];
  /** The plain tarball offered on fd 3. */
  readonly input: string;
  /** Where fd 4 writes (created or truncated). */
  readonly output: string;
  readonly signal?: AbortSignal;
}

/** Keep the last `MAX_OUTPUT` bytes of a stream. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= MAX_OUTPUT) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all
      .subarray(Math.max(0, all.length - MAX_OUTPUT))
      .toString("utf8")
      .trim();
  }
}

/** Run the repack script; resolves when it succeeded, else throws E_PROJECT (E_INTERRUPTED if aborted). */
export async function runRepack(options: RepackOptions): Promise<void> {
  if (options.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "repack interrupted");
  let input: FileHandle | undefined;
  let output: FileHandle | undefined;
  try {
    input = await open(options.input, "r");
    output = await open(options.output, "w");
    const outputTail = new Tail();
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn(localBash(), ["-s"], {
        cwd: options.cwd,
        detached: true, // its own process group, so that an abort reaches what it started
        stdio: ["pipe", "pipe", "pipe", input!.fd, output!.fd],
      });
      // A script that ends before reading all of its text closes the pipe: nothing to report.
      child.stdin!.on("error", () => undefined);
      child.stdin!.end(scriptBody({ script: options.script, environment: options.environment ?? [] }));
      const onAbort = (): void => {
        const pid = child.pid;
        if (pid === undefined) return;
        const kill = (sig: NodeJS.Signals): void => {
          try {
            process.kill(-pid, sig);
          } catch {
            /* already gone */
          }
        };
        kill("SIGTERM");
        setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS).unref();
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      // The prelude merges stderr into stdout (traces, output, errors in order); fd 9 gets only markers.
      child.stdout!.on("data", (c: Buffer) => outputTail.push(c));
      child.stderr!.resume();
      child.on("error", (e) => {
        options.signal?.removeEventListener("abort", onAbort);
        reject(e);
      });
      child.on("close", (code, signal) => {
        options.signal?.removeEventListener("abort", onAbort);
        resolve({ code, signal });
      });
    });
    if (options.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "repack interrupted");
    if (result.code !== 0) {
      const how = result.code === null ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
      const err = outputTail.text();
      throw new TroupeError("E_PROJECT", {
        path: "repack",
        message: `repack script ${how}${err ? `:\n${err}` : " (no error output)"}`,
      });
    }
  } catch (e) {
    if (e instanceof TroupeError) throw e;
    throw new TroupeError("E_PROJECT", { path: "repack", message: `cannot run repack script: ${(e as Error).message}` });
  } finally {
    await input?.close();
    await output?.close();
  }
}
