// One hook's log file in the results directory.
//
// Most hooks are short and print little: their text is kept in memory and
// the file is written with one call when the hook ends. A hook that prints a
// lot, or runs long, is switched to streaming: from then on the file fills
// as the script prints, so `tail -f` works. Nothing here blocks the event
// loop in the usual case: creating files costs 0.2 ms or more each on a
// busy disk, and a run of 1,000 trivial jobs creates 2,000 of them.
//
// Memory stays bounded whatever a script prints: writes go out one batch at
// a time, and when the disk falls behind by more than MAX_QUEUED the queue
// is written synchronously, which blocks the producer (the script's output
// pipe fills and the script waits) instead of growing troupe's memory.

import { close, open, write, writeSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";

/** Text kept in memory before a log switches to streaming. */
const MAX_BUFFERED = 64 * 1024;
/** Text waiting for the disk beyond which the log writes synchronously. */
const MAX_QUEUED = 8 * 1024 * 1024;
/** A streaming log gathers what comes for this long into one write (64 KiB go at once). */
const BATCH_MS = 20;

const openAsync = promisify(open);
const closeAsync = promisify(close);

export class HookLog {
  private chunks: string[] = [];
  private buffered = 0;
  /** Set once streaming was asked for: resolves when the file is open (or could not be). */
  private opening: Promise<void> | undefined;
  private fd: number | undefined;
  /** Where the next write goes in the file: writes are positional, so a synchronous one cannot overtake an async one. */
  private position = 0;
  private writing = false;
  private batch: NodeJS.Timeout | undefined;
  private idle: (() => void) | undefined;
  private failed = false;
  private ended = false;
  /** Lines written so far. */
  lines = 0;

  /**
   * @param path the log file
   * @param ready makes the file's directory, called when the file is first
   *   needed (a failure there is the caller's to report: the log just stays
   *   unwritten)
   * @param onError told about a file that cannot be written; the run goes on
   */
  constructor(
    readonly path: string,
    private readonly ready: () => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Has it begun writing its file (it printed much, or ran long)? */
  get streaming(): boolean {
    return this.opening !== undefined;
  }

  /** A log that never wrote its file: give up what it holds, and the file. */
  take(): string {
    this.ended = true;
    const text = this.chunks.join("");
    this.chunks = [];
    this.buffered = 0;
    return text;
  }

  /** One line, or a piece of a long one (`partial`: no newline, the line goes on). */
  writeLine(line: string, partial = false): void {
    this.lines++;
    this.write(partial ? line : line + "\n");
  }

  write(text: string): void {
    if (this.ended || this.failed) return;
    this.chunks.push(text);
    this.buffered += text.length;
    if (!this.opening) {
      if (this.buffered > MAX_BUFFERED) this.startStreaming();
      return;
    }
    if (this.fd === undefined) return; // still opening: written once open
    if (this.buffered > MAX_QUEUED) this.drainSync();
    else if (this.buffered >= MAX_BUFFERED) this.pump();
    else this.batch ??= setTimeout(() => this.pump(), BATCH_MS);
  }

  /** From now on, write to the file as text comes. */
  startStreaming(): void {
    if (this.opening || this.ended) return;
    this.opening = this.ready().then(
      async () => {
        try {
          this.fd = await openAsync(this.path, "w");
          this.pump();
        } catch (err) {
          this.fail(err);
        }
      },
      () => {
        this.failed = true; // no directory: its owner reported that
      },
    );
  }

  /** Once streaming: resolves when everything written so far is in the file. */
  async flush(): Promise<void> {
    await this.opening;
    while (this.fd !== undefined && !this.failed && (this.writing || this.chunks.length > 0)) {
      if (!this.writing) this.pump();
      await new Promise<void>((resolve) => (this.idle = resolve));
    }
  }

  /** Write what is left and close; resolves when the file is complete. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (!this.opening) {
      const text = this.chunks.join("");
      this.chunks = [];
      try {
        await this.ready();
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
    if (this.fd === undefined) return;
    while (this.writing || (this.chunks.length > 0 && !this.failed)) {
      if (!this.writing) this.pump();
      await new Promise<void>((resolve) => (this.idle = resolve));
    }
    const fd = this.fd;
    this.fd = undefined;
    await closeAsync(fd).catch((err: unknown) => this.fail(err));
  }

  /** Write the queue in one call, off the event loop; one write at a time. */
  private pump(): void {
    if (this.batch) {
      clearTimeout(this.batch);
      this.batch = undefined;
    }
    if (this.writing || this.fd === undefined || this.chunks.length === 0 || this.failed) {
      if (!this.writing) this.wakeIdle();
      return;
    }
    const data = Buffer.from(this.chunks.join(""));
    this.chunks = [];
    this.buffered = 0;
    this.writing = true;
    const at = this.position;
    this.position += data.length;
    write(this.fd, data, 0, data.length, at, (err) => {
      this.writing = false;
      if (err) this.fail(err);
      this.pump();
    });
  }

  /** The disk is far behind: write the queue now, blocking, so that memory does not grow. */
  private drainSync(): void {
    const data = Buffer.from(this.chunks.join(""));
    this.chunks = [];
    this.buffered = 0;
    try {
      let done = 0;
      while (done < data.length) done += writeSync(this.fd!, data, done, data.length - done, this.position + done);
      this.position += data.length;
    } catch (err) {
      this.fail(err);
    }
  }

  private wakeIdle(): void {
    const idle = this.idle;
    this.idle = undefined;
    idle?.();
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.chunks = [];
    this.onError(err instanceof Error ? err : new Error(String(err)));
    this.wakeIdle();
  }
}
