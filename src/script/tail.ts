// The end of a text that may grow without bound: keeps the last `max`
// characters in the pieces they came in, dropping whole pieces from the
// front as new ones come (constant work per piece), and counts what it
// dropped.

export class TailBuffer {
  private parts: string[] = [];
  /** Index of the first piece still kept (pieces before it were dropped). */
  private head = 0;
  private length = 0;
  /** Characters dropped from the front so far. */
  dropped = 0;

  constructor(readonly max: number) {}

  append(text: string): void {
    if (text === "") return;
    if (this.max <= 0) {
      this.dropped += text.length;
      return;
    }
    this.parts.push(text);
    this.length += text.length;
    // Drop whole pieces while what is left still holds `max` characters.
    while (this.head < this.parts.length - 1 && this.length - this.parts[this.head]!.length >= this.max) {
      this.length -= this.parts[this.head]!.length;
      this.dropped += this.parts[this.head]!.length;
      this.parts[this.head] = ""; // let it go now, not at the next compaction
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.parts.length) {
      this.parts = this.parts.slice(this.head);
      this.head = 0;
    }
  }

  /** The last `max` characters appended since the last `reset`. */
  text(): string {
    const all = this.parts.slice(this.head).join("");
    return all.length > this.max ? all.slice(all.length - this.max) : all;
  }

  /** Whether anything appended is not in `text()`. */
  get truncated(): boolean {
    return this.dropped > 0 || this.length > this.max;
  }

  /** Empty it (and forget what was dropped). */
  reset(): void {
    this.parts = [];
    this.head = 0;
    this.length = 0;
    this.dropped = 0;
  }
}

/** A tail as people read it: cut at a line start, and saying that something was cut. */
export function shownTail(text: string, truncated: boolean, note = "(... output cut ...)"): string {
  if (!truncated) return text;
  const nl = text.indexOf("\n");
  const body = nl >= 0 && nl < text.length - 1 ? text.slice(nl + 1) : text;
  return `${note}\n${body}`;
}
