// Splits a byte stream into lines, correctly across chunk boundaries and
// multi-byte UTF-8 characters.

import { StringDecoder } from "node:string_decoder";

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feed a chunk; returns its decoded text (for whole-output buffers). */
  push(chunk: Buffer): string {
    const text = this.decoder.write(chunk);
    this.take(text);
    return text;
  }

  /** Flush what is left (a last line without its newline). */
  end(): string {
    const text = this.decoder.end();
    this.take(text);
    if (this.partial !== "") {
      const last = this.partial;
      this.partial = "";
      this.onLine(stripCR(last));
    }
    return text;
  }

  private take(text: string): void {
    if (text === "") return;
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.onLine(stripCR(line));
  }
}

function stripCR(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
