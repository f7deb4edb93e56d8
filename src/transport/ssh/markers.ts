// Take the session wrapper's marker lines (`<<troupe:TOKEN:pgid:N>>` and
// `<<troupe:TOKEN:exit:N>>`, see remote.ts) out of a session's stderr, and
// the command loop's `<<troupe:TOKEN:done:N>>` (and `busy:N`) out of both streams, and pass
// everything else through unchanged, whatever the chunk boundaries are.

import { markerPrefix } from "./remote.js";

export type MarkerKind = "pgid" | "exit" | "done" | "busy";

/** Longest marker body after the prefix: `exit:255>>\n`, `pgid:4194304>>\n`, with room. */
const MAX_BODY = 32;

export class MarkerFilter {
  private readonly prefix: string;
  /** Bytes held back because they may start a marker (latin1: one char per byte). */
  private held = "";

  constructor(
    token: string,
    private readonly onMarker: (kind: MarkerKind, value: number) => void,
  ) {
    this.prefix = markerPrefix(token);
  }

  /** Feed a chunk; returns what is not part of a marker (possibly empty). */
  push(chunk: Buffer): Buffer {
    let text = this.held + chunk.toString("latin1");
    this.held = "";
    let out = "";
    for (;;) {
      const at = text.indexOf(this.prefix);
      if (at < 0) {
        const keep = partialPrefixLength(text, this.prefix);
        out += text.slice(0, text.length - keep);
        this.held = text.slice(text.length - keep);
        break;
      }
      out += text.slice(0, at);
      const rest = text.slice(at + this.prefix.length);
      const m = /^(pgid|exit|done|busy):(\d{1,10})>>\n/.exec(rest);
      if (m) {
        this.onMarker(m[1] as MarkerKind, Number(m[2]));
        text = rest.slice(m[0].length);
        continue;
      }
      if (rest.length < MAX_BODY && couldBecomeMarker(rest)) {
        // Could still become a marker: wait for more.
        this.held = text.slice(at);
        break;
      }
      // Looked like a marker but is not one: it is the script's text.
      out += this.prefix;
      text = rest;
    }
    return Buffer.from(out, "latin1");
  }

  /** The stream ended: whatever was held back is plain text. */
  end(): Buffer {
    const rest = this.held;
    this.held = "";
    return Buffer.from(rest, "latin1");
  }
}

const KINDS: readonly MarkerKind[] = ["pgid", "exit", "done", "busy"];

/** Whether `rest` (what follows a prefix) is the start of a marker body: `exi`, `done:1`, `pgid:42>`. */
function couldBecomeMarker(rest: string): boolean {
  return KINDS.some((kind) => {
    const head = `${kind}:`;
    if (rest.length <= head.length) return head.startsWith(rest);
    return rest.startsWith(head) && /^\d{0,10}(?:>>?)?$/.test(rest.slice(head.length));
  });
}

/** How many characters at the end of `text` are a proper start of `prefix`. */
function partialPrefixLength(text: string, prefix: string): number {
  const max = Math.min(text.length, prefix.length - 1);
  for (let n = max; n > 0; n--) {
    if (text.endsWith(prefix.slice(0, n))) return n;
  }
  return 0;
}
