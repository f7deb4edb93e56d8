// The engine's multiplexed stream (exec and attach without a terminal): each
// frame is an 8-byte header, the stream (0 stdin, 1 stdout, 2 stderr), three
// zero bytes and the payload's length (big-endian uint32), then the payload.
// Pure: feed it chunks as they come, whatever their boundaries.

export type StreamKind = "stdout" | "stderr";

export class StreamDemux {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current frame's payload still to come, and its stream. */
  private left = 0;
  private kind: StreamKind = "stdout";

  constructor(private readonly onFrame: (kind: StreamKind, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (this.left > 0) {
        const n = Math.min(this.left, buf.length);
        this.onFrame(this.kind, buf.subarray(0, n));
        this.left -= n;
        buf = buf.subarray(n);
        continue;
      }
      if (buf.length < 8) {
        this.pending = Buffer.from(buf);
        return;
      }
      // Stream 0 (stdin echoed back) does not happen without a terminal; treat it as output.
      this.kind = buf[0] === 2 ? "stderr" : "stdout";
      this.left = buf.readUInt32BE(4);
      buf = buf.subarray(8);
    }
  }

  /** Whether the stream ended between frames, as a complete one does. */
  get complete(): boolean {
    return this.left === 0 && this.pending.length === 0;
  }
}

/** One frame, for tests and for writing a multiplexed stream. */
export function frame(kind: StreamKind, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(8);
  head[0] = kind === "stderr" ? 2 : 1;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}
