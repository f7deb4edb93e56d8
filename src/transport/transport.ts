// How the engine talks to one host. Every backend hands out hosts with a
// Transport; exec/, transfer/ and sync/ only ever use this interface.

import type { Readable } from "node:stream";

export interface ExecOptions {
  /** A POSIX shell script, run by `/bin/sh` on the host. */
  readonly script: string;
  /** Extra environment variables, set before the script starts. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory on the host. */
  readonly cwd?: string;
  /** Data for the script's standard input; none (closed) by default. */
  readonly stdin?: Readable | string | Buffer;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /** Aborting kills the script's whole process group on the host. */
  readonly signal?: AbortSignal;
  /** Attach to the user's terminal (for -shell / -debug); output callbacks are not called. */
  readonly interactive?: boolean;
}

export interface ExecResult {
  /** The script's exit status; null when it was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Transport {
  /** A label for messages, usually the host name. */
  readonly label: string;
  exec(options: ExecOptions): Promise<ExecResult>;
  /** Unpack a tar stream into `dir` on the host (created if missing). */
  put(tar: Readable, dir: string): Promise<void>;
  /** A tar stream of `paths` (relative to `dir`) on the host. */
  get(dir: string, paths: readonly string[]): Promise<Readable>;
  /** Release connections; running commands are killed. */
  close(): Promise<void>;
}
