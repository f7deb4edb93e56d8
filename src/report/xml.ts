// XML escaping for text that comes from scripts: anything may be in it.
//
// XML 1.0 allows only TAB, LF, CR, U+0020..U+D7FF, U+E000..U+FFFD and
// U+10000..U+10FFFF, even as character references. ANSI escape sequences are
// dropped (they are colors, noise in a CI page); any other character outside
// that set is shown as `\xHH` (or `\uHHHH`) so the reader still sees it was
// there; lone surrogate halves become U+FFFD.

import { stripAnsi } from "./format.js";

function visible(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Make any string legal XML character data (before escaping markup). */
export function xmlSafe(s: string): string {
  const text = stripAnsi(s);
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else {
        out += "\ufffd";
      }
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += "\ufffd";
      continue;
    }
    const legal = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xfffd);
    out += legal ? text[i]! : visible(c);
  }
  return out;
}

/** Escape for element content. */
export function escapeText(s: string): string {
  return xmlSafe(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escape for a double-quoted attribute value; line breaks and tabs survive as references. */
export function escapeAttr(s: string): string {
  return xmlSafe(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;")
    .replace(/\t/g, "&#9;");
}

/** `<name a="1" b="2">`, attributes in the order given, undefined ones left out. */
export function openTag(name: string, attrs: Readonly<Record<string, string | number | undefined>>, selfClose = false): string {
  let s = `<${name}`;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    s += ` ${k}="${escapeAttr(String(v))}"`;
  }
  return s + (selfClose ? "/>" : ">");
}
