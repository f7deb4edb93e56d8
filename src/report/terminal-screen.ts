// The screen of a terminal writer: log lines that scroll, and on a TTY a
// live block (status-block.ts for `run`, the running stage for `play`) kept
// below them, redrawn in place at most every `redrawMs`: queued lines and the
// block go out in one write, after erasing the block drawn before.
//
// Off a TTY there is no block: what comes in one turn of the event loop goes
// out in one write (whole lines, so concurrent jobs' lines never mix), rather
// than a write, and a wake-up of the reader, per line.
//
// While an interactive shell has the terminal (`pause()`), the block is
// erased and nothing is written; lines are held, up to HELD_MAX characters
// (the logs have the rest), and written when the shell gives it back
// (`resume()`). `close()` erases the block for good, so that no frozen copy
// of it stays in the scrollback.

import type { Writable } from "node:stream";

/** Characters of lines held while a shell has the terminal; past this, they are counted, not kept. */
const HELD_MAX = 1 << 20;

export interface ScreenOptions {
  readonly out: Writable;
  /** Draw the live block (the output is a terminal). */
  readonly tty: boolean;
  /** The block's lines now, without newlines (called at each redraw). */
  readonly block: () => string[];
  readonly now?: () => number;
  /** Minimum time between two redraws. */
  readonly redrawMs?: number;
}

const erase = (lines: number): string => `\x1b[${lines}A\r\x1b[J`;

export class TerminalScreen {
  private readonly now: () => number;
  private readonly redrawMs: number;
  private pending: string[] = [];
  private drawn = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private plainFlush: NodeJS.Immediate | undefined;
  private closed = false;
  private paused = false;
  private held = 0;
  private dropped = 0;

  constructor(private readonly o: ScreenOptions) {
    this.now = o.now ?? Date.now;
    this.redrawMs = o.redrawMs ?? 100;
    if (o.tty) {
      // Refresh elapsed times once a second; never keeps the process alive.
      this.ticker = setInterval(() => this.schedule(), 1000);
      this.ticker.unref();
    }
  }

  /** Queue text (whole lines) to scroll above the block. */
  write(text: string): void {
    if (this.paused) {
      if (this.held + text.length > HELD_MAX) {
        this.dropped += text.length;
        return;
      }
      this.held += text.length;
    }
    this.pending.push(text);
    if (this.o.tty) this.schedule();
    else if (!this.paused) this.plainFlush ??= setImmediate(() => this.flush());
  }

  /** The block changed: redraw it soon. */
  schedule(): void {
    if (!this.o.tty || this.closed || this.paused || this.timer) return;
    const wait = Math.max(0, this.lastDraw + this.redrawMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  /** Write queued lines (and on a TTY, redraw the block) now. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.paused) return;
    if (!this.o.tty) {
      if (this.plainFlush) clearImmediate(this.plainFlush);
      this.plainFlush = undefined;
      if (this.pending.length > 0) this.o.out.write(this.pending.join(""));
      this.pending = [];
      return;
    }
    const block = this.closed ? [] : this.o.block();
    let text = this.drawn > 0 ? erase(this.drawn) : "";
    text += this.pending.join("");
    this.pending = [];
    for (const l of block) text += l + "\n";
    this.drawn = block.length;
    this.lastDraw = this.now();
    if (text) this.o.out.write(text);
  }

  /** A shell takes the terminal: what is queued goes out, the block is erased, nothing more is drawn. */
  pause(): void {
    this.flush();
    if (this.o.tty && this.drawn > 0) this.o.out.write(erase(this.drawn));
    this.drawn = 0;
    this.paused = true;
  }

  /** The shell gave the terminal back: what was held goes out, and the block again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.dropped > 0) {
      this.pending.push(`(... ${this.dropped} more characters came while the shell was open: they are in the run's logs ...)\n`);
    }
    this.held = this.dropped = 0;
    this.flush();
  }

  /** Stop redrawing, erase the block and write what is queued (also what a shell that never gave the terminal back held). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.paused = false;
    this.flush();
  }
}
