// The wire format between `troupe-ctl`, the relay and the orchestrator.
// Plain lines, so that a POSIX shell can write and read them with printf
// and read, and so that each line a caller writes is one atomic write.
//
// Escaping (the same both ways): `\\` backslash, `\n` newline, `\r` carriage
// return, `\t` tab, `\s` space, `\-` the empty string (a whole token).
// Anything else stands for itself.
//
// Host -> orchestrator (the relay's stdout), one per line, each after the
// job's token and a space (`TOKEN ID BODY`): the relay has it from
// TROUPE_RELAY_TOKEN, troupe-ctl from TROUPE_CTL_TOKEN; relay.ts strips it,
// and refuses a line without it (another job's caller). Below, the line
// after the token:
//   ID+ BODY       a chunk of request ID; more chunks follow
//   ID BODY        the last (often only) chunk; the request is complete
//   C ID           the caller of ID went away (signal): cancel it
//   G ID           the answer to ID could not be delivered (its FIFO is gone)
//   D PID          caller PID is dead (answer to a K probe)
//   P HEXPORT      a local TCP port in use on the host (port probe, at start)
//   H PATH         the relay is ready; PATH is the host's $PATH
//   Y              heartbeat echo
// A request, once its chunks are joined, is the caller's arguments, each
// escaped, separated by single spaces. IDs are `PID.ANSWER`: the caller's
// process id, then the name of its answer FIFO after `a.` (a slot number of the
// relay's pool, or `xPID-SEQ` for a FIFO of its own).
//
// Orchestrator -> host (the relay's stdin):
//   ID CODE N      the answer: troupe-ctl's exit status, then its text as N
//                  raw lines that follow (the text split at each newline; no
//                  escaping, so the shell can print it as it reads it; bytes
//                  as they were sent, see values.ts)
//   K PID          is caller PID alive? (asked for lock holders and waiters)
//   Y              heartbeat: echo it

export function escapeToken(s: string): string {
  if (s === "") return "\\-";
  return s.replace(/[\\\n\r\t ]/g, (c) => ESC[c] as string);
}

const ESC: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", " ": "\\s" };
const UNESC: Readonly<Record<string, string>> = { "\\": "\\", n: "\n", r: "\r", t: "\t", s: " ", "-": "" };

export function unescape(s: string): string {
  return s.replace(/\\(.?)/gs, (_, c: string) => (c === "" ? "\\" : (UNESC[c] ?? c)));
}

export function encodeArgs(argv: readonly string[]): string {
  return argv.map(escapeToken).join(" ");
}

export function decodeArgs(body: string): string[] {
  if (body === "") return [];
  return body.split(" ").map(unescape);
}

export type RelayLine =
  | { readonly kind: "chunk"; readonly id: string; readonly body: string; readonly more: boolean }
  | { readonly kind: "cancel" | "gone"; readonly id: string }
  | { readonly kind: "dead"; readonly pid: string }
  | { readonly kind: "port"; readonly port: number }
  | { readonly kind: "hello"; readonly path: string }
  | { readonly kind: "heartbeat" }
  | { readonly kind: "junk"; readonly line: string };

const ID = /^\d+\.[0-9a-z-]+$/;

export function parseRelayLine(line: string): RelayLine {
  const sp = line.indexOf(" ");
  const head = sp < 0 ? line : line.slice(0, sp);
  const rest = sp < 0 ? "" : line.slice(sp + 1);
  switch (head) {
    case "C":
    case "G":
      return ID.test(rest) ? { kind: head === "C" ? "cancel" : "gone", id: rest } : { kind: "junk", line };
    case "D":
      return /^\d+$/.test(rest) ? { kind: "dead", pid: rest } : { kind: "junk", line };
    case "P": {
      const port = Number.parseInt(rest, 16);
      return /^[0-9A-Fa-f]{1,4}$/.test(rest) ? { kind: "port", port } : { kind: "junk", line };
    }
    case "H":
      return { kind: "hello", path: rest };
    case "Y":
      return sp < 0 ? { kind: "heartbeat" } : { kind: "junk", line };
  }
  const more = head.endsWith("+");
  const id = more ? head.slice(0, -1) : head;
  if (!ID.test(id)) return { kind: "junk", line };
  return { kind: "chunk", id, body: rest, more };
}

/** `ID CODE N` and the N lines of the text ("" is no line; "a\n" is "a" and ""). */
export function formatAnswer(id: string, code: number, text: string): string {
  return `${id} ${formatReply(code, text)}`;
}

/** `CODE N` and the N lines: what troupe-ctl reads, from its answer FIFO or a sync server's socket. */
export function formatReply(code: number, text: string): string {
  if (text === "") return `${code} 0\n`;
  const lines = text.split("\n");
  return `${code} ${lines.length}\n${lines.join("\n")}\n`;
}
