// Replacing secret values in text, in time linear in the text whatever the
// number of secrets: one Aho-Corasick automaton over all of them (UTF-16
// code units), built once per set of secrets. Every character that belongs
// to an occurrence of any secret is hidden; occurrences that overlap or
// touch become one `***`.
//
// Streamed text (a script's output, chunk after chunk) goes through a
// `RedactingStream`: a secret split across chunks is still found, because
// the stream holds back the end of a chunk that could be the start of a
// secret (at most the longest secret's length) until the next chunk says.
// Memory is bounded by the longest secret, whatever comes.

/** What a secret becomes. */
export const MASK = "***";

export class Redactor {
  private readonly next: Map<number, number>[] = [new Map<number, number>()];
  private readonly fail: number[] = [0];
  /** Length of the string each state stands for. */
  readonly depth: number[] = [0];
  /** Length of the longest secret ending at each state (0: none). */
  private readonly out: number[] = [0];
  readonly size: number;

  constructor(secrets: Iterable<string>) {
    let size = 0;
    for (const s of secrets) {
      if (s === "") continue;
      size++;
      let state = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        let to = this.next[state]!.get(c);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map<number, number>());
          this.fail.push(0);
          this.depth.push(this.depth[state]! + 1);
          this.out.push(0);
          this.next[state]!.set(c, to);
        }
        state = to;
      }
      this.out[state] = Math.max(this.out[state]!, s.length);
    }
    this.size = size;
    // Breadth first: a state's failure link is known before its children's.
    const queue: number[] = [...this.next[0]!.values()];
    for (let q = 0; q < queue.length; q++) {
      const state = queue[q]!;
      for (const [c, child] of this.next[state]!) {
        let f = this.fail[state]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const to = this.next[f]!.get(c);
        this.fail[child] = to !== undefined && to !== child ? to : 0;
        this.out[child] = Math.max(this.out[child]!, this.out[this.fail[child]]!);
        queue.push(child);
      }
    }
  }

  /** The state after reading code unit `c` in `state`. */
  step(state: number, c: number): number {
    let s = state;
    for (;;) {
      const to = this.next[s]!.get(c);
      if (to !== undefined) return to;
      if (s === 0) return 0;
      s = this.fail[s]!;
    }
  }

  /** Length of the longest secret that ends at `state`, 0 for none. */
  matchAt(state: number): number {
    return this.out[state]!;
  }

  /** `text` with every secret in it masked. */
  redact(text: string): string {
    if (this.size === 0) return text;
    const stream = new RedactingStream(this);
    const head = stream.push(text);
    return head + stream.end();
  }
}

interface Span {
  /** First and last index (absolute, in the whole stream) of a masked run. */
  s: number;
  e: number;
  /** Its mask has been written already (the run may still grow). */
  shown: boolean;
}

/** A Redactor over text that comes in pieces: what push/end return, joined, is the redacted whole. */
export class RedactingStream {
  private state = 0;
  /** Absolute index of the next character. */
  private pos = 0;
  /** Text not written yet, from absolute index `heldAt`. */
  private held = "";
  private heldAt = 0;
  /** Masked runs not settled yet, in order, apart from each other. */
  private spans: Span[] = [];

  constructor(private readonly r: Redactor) {}

  push(text: string): string {
    if (this.r.size === 0) return text;
    for (let i = 0; i < text.length; i++) {
      this.state = this.r.step(this.state, text.charCodeAt(i));
      const len = this.r.matchAt(this.state);
      if (len > 0) this.mark(this.pos + i - len + 1, this.pos + i);
    }
    this.held += text;
    this.pos += text.length;
    // No secret found later can start before `safe`: it would be a longer
    // match of the automaton's current state.
    return this.write(this.pos - this.r.depth[this.state]!);
  }

  end(): string {
    const out = this.write(Number.POSITIVE_INFINITY);
    this.state = 0;
    return out;
  }

  private mark(start: number, end: number): void {
    let s = Math.max(start, this.heldAt);
    let shown = false;
    while (this.spans.length > 0 && this.spans[this.spans.length - 1]!.e + 1 >= s) {
      const last = this.spans.pop()!;
      if (last.s <= s) {
        s = last.s;
        shown = last.shown;
      }
    }
    this.spans.push({ s, e: end, shown });
  }

  /** Write what is settled before `safe`; keep the rest. */
  private write(safe: number): string {
    let out = "";
    const text = (to: number): void => {
      if (to > this.heldAt) {
        out += this.held.slice(0, to - this.heldAt);
        this.held = this.held.slice(to - this.heldAt);
        this.heldAt = to;
      }
    };
    while (this.spans.length > 0 && this.spans[0]!.s < safe) {
      const span = this.spans[0]!;
      text(span.s);
      if (!span.shown) out += MASK;
      span.shown = true;
      // Its characters are never written; drop them.
      const after = Math.min(span.e + 1, this.pos);
      this.held = this.held.slice(Math.max(0, after - this.heldAt));
      this.heldAt = Math.max(this.heldAt, after);
      if (span.e + 1 < safe) this.spans.shift();
      else return out;
    }
    const first = this.spans[0];
    text(Math.min(safe === Number.POSITIVE_INFINITY ? this.pos : safe, first ? first.s : this.pos));
    return out;
  }
}
