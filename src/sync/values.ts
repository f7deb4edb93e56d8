// Values of the sync service as bytes, their one size limit, and the form
// `troupe-ctl wait` prints them in. Pure.
//
// A host may send any bytes but NUL (a shell argument cannot hold one): text
// that is not UTF-8 too. The service keeps values as strings in which each
// byte that is not part of valid UTF-8 stands as the lone surrogate U+DC80 +
// (byte - 0x80), as Python's `surrogateescape` does, so that what a host set
// is what a host gets back, byte for byte.

import { SyncError } from "./errors.js";

/**
 * The most bytes one value may have: a `kv set` value, and all the data of
 * one message as `wait --all` prints it. `troupe-ctl` gets every answer
 * through a FIFO written at once, which must stay below a pipe's capacity
 * (the relay caps answers at 48 KiB); 32 KiB leaves room for the rest.
 */
export const VALUE_LIMIT = 32 * 1024;

const LONE_ESCAPE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;

/** Bytes (a latin1 string: one character per byte) as text; bytes that are not UTF-8 kept as U+DC80..U+DCFF. */
export function bytesToText(latin1: string): string {
  // Plain ASCII (the usual case) is already its own text.
  if (!/[\x80-\xff]/.test(latin1)) return latin1;
  const b = Buffer.from(latin1, "latin1");
  let out = "";
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceAt(b, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + (b[i] as number));
      i += 1;
    } else {
      out += b.toString("utf8", i, i + n);
      i += n;
    }
  }
  return out;
}

/** The bytes `s` stands for (the inverse of bytesToText). */
export function textToBytes(s: string): Buffer {
  if (!LONE_ESCAPE.test(s)) return Buffer.from(s, "utf8");
  const parts: Buffer[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    parts.push(cp >= 0xdc80 && cp <= 0xdcff ? Buffer.of(cp - 0xdc00) : Buffer.from(ch, "utf8"));
  }
  return Buffer.concat(parts);
}

/** How many bytes `s` stands for. */
export function byteLength(s: string): number {
  return LONE_ESCAPE.test(s) ? textToBytes(s).length : Buffer.byteLength(s, "utf8");
}

/** The length of the valid UTF-8 sequence starting at b[i] (1 to 4), or 0 when there is none. */
function utf8SequenceAt(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0; // overlong
    if (c === 0xed) hi = 0x9f; // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90; // overlong
    if (c === 0xf4) hi = 0x8f; // past U+10FFFF
  } else return 0;
  if (i + n > b.length) return 0;
  const second = b[i + 1] as number;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) {
    const x = b[i + k] as number;
    if (x < 0x80 || x > 0xbf) return 0;
  }
  return n;
}

/**
 * A key or value as one line of `troupe-ctl wait`'s output: a backslash as
 * `\\`, and each byte of a control character (newline, carriage return, tab,
 * DEL, C1) and of invalid UTF-8 as `\0` and three octal digits;
 * other text as it is. `printf '%b'` turns it back into the bytes.
 */
export function printable(s: string): string {
  return s.replace(/[\\\x00-\x1f\x7f-\x9f]|(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g, (c) => {
    if (c === "\\") return "\\\\";
    return [...textToBytes(c)].map((byte) => `\\0${byte.toString(8).padStart(3, "0")}`).join("");
  });
}

/** Refuse a value the service could not give back whole: too long, or with a NUL. */
export function checkValue(what: string, value: string, limit = VALUE_LIMIT): void {
  if (value.includes("\u0000")) throw new SyncError("usage", `${what}: a value cannot hold a NUL byte (a shell could not give it back)`);
  const n = byteLength(value);
  if (n > limit) {
    throw new SyncError(
      "usage",
      `${what}: value too large (${n} bytes, at most ${limit}); move larger data through the project or artifacts`,
    );
  }
}
