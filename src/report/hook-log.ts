// One hook's log file in the results directory.
//
// Most hooks are short and print little: their text is kept in memory and
// the file is written with one call when the hook ends, which costs a few
// syscalls instead of an open stream's round trips through the thread pool
// (a third of the orchestrator's time per job on a run of 1,000 trivial
// tasks). A hook that prints a lot, or runs long, is switched to a stream:
// from then on the file fills as the script prints, so `tail -f` works.

import { createWriteStream, writeFileSync, type WriteStream } from "node:fs";

/** Text kept in memory before a log switches to streaming. */
const MAX_BUFFERED = 64 * 1024;

export class HookLog {
  private chunks: string[] = [];
  private buffered = 0;
  private stream: WriteStream | undefined;
  private ended = false;
  /** Lines written so far. */
  lines = 0;

  constructor(
    readonly path: string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Whether anything was written. */
  get empty(): boolean {
    return this.lines === 0 && this.buffered === 0 && !this.stream;
  }

  writeLine(line: string): void {
    this.lines++;
    this.write(line + "\n");
  }

  write(text: string): void {
    if (this.ended) return;
    if (this.stream) {
      this.stream.write(text);
      return;
    }
    this.chunks.push(text);
    this.buffered += text.length;
    if (this.buffered > MAX_BUFFERED) this.startStreaming();
  }

  /** From now on, write to the file as text comes. */
  startStreaming(): void {
    if (this.stream || this.ended) return;
    const s = createWriteStream(this.path, { flags: "w" });
    s.on("error", (err) => this.onError(err));
    if (this.chunks.length > 0) s.write(this.chunks.join(""));
    this.chunks = [];
    this.buffered = 0;
    this.stream = s;
  }

  /** Write what is left and close; resolves when the file is complete. */
  end(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    const s = this.stream;
    if (!s) {
      try {
        writeFileSync(this.path, this.chunks.join(""));
      } catch (err) {
        this.onError(err as Error);
      }
      this.chunks = [];
      return Promise.resolve();
    }
    if (s.closed) return Promise.resolve();
    // An errored stream still emits close (autoDestroy), so close is enough to wait for.
    return new Promise<void>((resolve) => {
      s.once("close", () => resolve());
      s.end();
    });
  }
}
