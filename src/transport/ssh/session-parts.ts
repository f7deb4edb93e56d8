// Pieces both SSH transports (OpenSSH's and the in-process one) use to run
// one session: stderr held back until the wrapper reports in, a bounded copy
// of a session's output for messages, input fed to the script, and the
// bookkeeping that lets an abort (or a reset) kill a running session.

import type { Readable, Writable } from "node:stream";

/** A connection attempt that failed; `permanent` when trying again cannot help. */
export class AttemptFailed extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Stderr kept back until the session is known to have started. */
const MAX_EARLY_STDERR = 64 * 1024;

/**
 * A session's stderr, held until the wrapper has reported in (what comes
 * before may be ssh's or the login shell's complaint, not the script's).
 */
export class EarlyStderr {
  private held: Buffer[] | undefined = [];
  private size = 0;

  constructor(private readonly forward: ((chunk: Buffer) => void) | undefined) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.held) {
      this.held.push(chunk);
      this.size += chunk.length;
      if (this.size > MAX_EARLY_STDERR) this.flush();
      return;
    }
    this.forward?.(chunk);
  }

  /** Pass on what was held, and everything from now on. */
  flush(): void {
    const held = this.held;
    this.held = undefined;
    for (const b of held ?? []) this.forward?.(b);
  }

  /** What is still held, as text. */
  text(): string {
    return this.held ? Buffer.concat(this.held).toString("utf8") : "";
  }
}

/** The first 8 KiB of what a session wrote, for an error message. */
export function outputCollector(): { readonly take: (chunk: Buffer) => void; readonly text: () => string } {
  let output = "";
  return {
    take: (chunk) => {
      if (output.length < 8192) output += chunk.toString("utf8");
    },
    text: () => output,
  };
}

/** Feed a script its input; a script may exit without reading it. */
export function feedStdin(sink: Writable, stdin: Readable | string | Buffer): void {
  sink.on("error", () => undefined);
  if (typeof stdin === "string" || Buffer.isBuffer(stdin)) sink.end(stdin);
  else {
    stdin.on("error", () => sink.end());
    stdin.pipe(sink);
  }
}

/**
 * Write a session's stdin: the wrapper's `input` (sessionLaunch), then the
 * script's own, then the end. Nothing to write: the end at once.
 */
export function feedSession(sink: Writable, input: string | undefined, stdin: Readable | string | Buffer | undefined): void {
  sink.on("error", () => undefined);
  if (input !== undefined) sink.write(input);
  if (stdin === undefined) sink.end();
  else feedStdin(sink, stdin);
}

/** A running session, as reset() sees it. */
export interface Running {
  /** Kill the remote process group (as an abort does). */
  kill(): void;
  readonly done: Promise<unknown>;
}

/**
 * Wait for a session, listed in `running` meanwhile and killed by `abort`
 * when `signal` fires; `cleanup` runs at the end, whatever happens.
 */
export async function whileRunning<T>(
  running: Set<Running>,
  done: Promise<T>,
  abort: () => void,
  signal: AbortSignal | undefined,
  cleanup: () => void,
): Promise<T> {
  const entry: Running = { kill: abort, done };
  running.add(entry);
  const onAbort = (): void => abort();
  if (signal?.aborted) abort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await done;
  } finally {
    running.delete(entry);
    signal?.removeEventListener("abort", onAbort);
    cleanup();
  }
}

/** Kill every running session and wait until they end, `capMs` at the most. */
export async function killAll(running: Set<Running>, capMs: number): Promise<void> {
  const all = [...running];
  for (const r of all) r.kill();
  if (all.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((r) => (timer = setTimeout(r, capMs)));
  await Promise.race([Promise.allSettled(all.map((r) => r.done)), cap]);
  clearTimeout(timer);
}
