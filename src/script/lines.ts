// Splitting a byte stream into lines: linear in what arrives, whatever the
// line lengths, and bounded in memory. A line longer than `maxLine`
// characters is handed over in pieces as it grows (each but the last marked
// `partial`), so one 200 MB line costs as much as 200 MB of short ones and
// never sits in memory whole. Multi-byte UTF-8 characters split across
// chunks are decoded once they are complete.

import { StringDecoder } from "node:string_decoder";

/** Lines longer than this come in pieces (characters). */
export const DEFAULT_MAX_LINE = 64 * 1024;

export type OnLine = (text: string, partial: boolean) => void;

export interface LineSplitterOptions {
  /** Longest piece handed over at once; longer lines come in pieces. */
  readonly maxLine?: number;
  /** `utf8` (default), or `latin1` to keep bytes as they are (a protocol of its own). */
  readonly encoding?: "utf8" | "latin1";
  /** Drop a `\r` before the `\n` (default true: CRLF output reads as lines). */
  readonly stripCR?: boolean;
  /** Rewrites the decoded text before it is split, as a stream (secrets/redactor.ts's RedactingStream). */
  readonly filter?: TextFilter;
}

/** A rewriting of text that comes in pieces: what push and end return, joined, is the rewritten whole. */
export interface TextFilter {
  push(text: string): string;
  end(): string;
}

export class LineSplitter {
  private readonly decoder: StringDecoder;
  private readonly maxLine: number;
  private readonly stripCR: boolean;
  private readonly filter: TextFilter | undefined;
  /** The line being read, in the pieces it came in (joined once, when it ends). */
  private parts: string[] = [];
  private partLength = 0;

  constructor(
    private readonly onLine: OnLine,
    options: LineSplitterOptions = {},
  ) {
    this.decoder = new StringDecoder(options.encoding ?? "utf8");
    this.maxLine = Math.max(1, options.maxLine ?? DEFAULT_MAX_LINE);
    this.stripCR = options.stripCR ?? true;
    this.filter = options.filter;
  }

  /** Feed a chunk; returns its decoded text. */
  push(chunk: Buffer): string {
    const decoded = this.decoder.write(chunk);
    const text = this.filter ? this.filter.push(decoded) : decoded;
    this.take(text);
    return text;
  }

  /** Flush what is left (a last line without its newline); returns the text decoded last. */
  end(): string {
    const decoded = this.decoder.end();
    const text = this.filter ? this.filter.push(decoded) + this.filter.end() : decoded;
    this.take(text);
    if (this.partLength > 0) this.emit(this.joined(), false);
    return text;
  }

  private take(text: string): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const tail = text.slice(start, nl);
      let line: string;
      if (this.partLength === 0) line = tail;
      else {
        this.parts.push(tail);
        line = this.joined();
      }
      this.emit(this.stripCR && line.endsWith("\r") ? line.slice(0, -1) : line, false);
      start = nl + 1;
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      this.parts.push(rest);
      this.partLength += rest.length;
      while (this.partLength >= this.maxLine) {
        const all = this.joined();
        this.emit(all.slice(0, this.maxLine), true);
        const left = all.slice(this.maxLine);
        if (left !== "") {
          this.parts.push(left);
          this.partLength = left.length;
        }
      }
    }
  }

  private joined(): string {
    const s = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    this.parts = [];
    this.partLength = 0;
    return s;
  }

  private emit(text: string, partial: boolean): void {
    this.onLine(text, partial);
  }
}
