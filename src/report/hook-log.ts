// One hook's log file in the results directory.
//
// Most hooks are short and print little: their text is kept in memory and
// the file is written with one call when the hook ends. A hook that prints a
// lot, or runs long, is switched to a stream: from then on the file fills as
// the script prints, so `tail -f` works. Nothing here blocks the event loop:
// creating files costs 0.2 ms or more each on a busy disk, and a run of
// 1,000 trivial jobs creates 2,000 of them.

import { createWriteStream, type WriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";

/** Text kept in memory before a log switches to streaming. */
const MAX_BUFFERED = 64 * 1024;

export class HookLog {
  private chunks: string[] = [];
  private buffered = 0;
  private stream: WriteStream | undefined;
  /** Set once streaming was asked for: resolves when the stream exists. */
  private opening: Promise<void> | undefined;
  private ended = false;
  /** Lines written so far. */
  lines = 0;

  /**
   * @param path the log file
   * @param ready resolves once the file's directory exists (a failure there is
   *   the caller's to report: the log just stays unwritten)
   * @param onError told about a file that cannot be written; the run goes on
   */
  constructor(
    readonly path: string,
    private readonly ready: Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  /** One line, or a piece of a long one (`partial`: no newline, the line goes on). */
  writeLine(line: string, partial = false): void {
    this.lines++;
    this.write(partial ? line : line + "\n");
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
    if (this.opening || this.ended) return;
    this.opening = this.ready.then(
      () => {
        const s = createWriteStream(this.path, { flags: "w" });
        s.on("error", (err) => this.onError(err));
        if (this.chunks.length > 0) s.write(this.chunks.join(""));
        this.chunks = [];
        this.buffered = 0;
        this.stream = s;
      },
      () => undefined, // no directory: its owner reported that
    );
  }

  /** Write what is left and close; resolves when the file is complete. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (!this.opening) {
      const text = this.chunks.join("");
      this.chunks = [];
      try {
        await this.ready;
      } catch {
        return; // no directory: its owner reported that
      }
      try {
        await writeFile(this.path, text);
      } catch (err) {
        this.onError(err as Error);
      }
      return;
    }
    await this.opening;
    const s = this.stream;
    if (!s || s.closed) return;
    if (this.chunks.length > 0) s.write(this.chunks.join(""));
    this.chunks = [];
    // An errored stream still emits close (autoDestroy), so close is enough to wait for.
    await new Promise<void>((resolve) => {
      s.once("close", () => resolve());
      s.end();
    });
  }
}
