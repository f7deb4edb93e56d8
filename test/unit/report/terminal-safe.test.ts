import { test } from "node:test";
import assert from "node:assert/strict";
import { neutralize } from "../../../src/report/terminal-safe.js";

test("control sequences are spelled out, never obeyed: CSI, OSC title and clipboard, BEL, BS, CR, C1, bidi", () => {
  assert.equal(neutralize("\x1b[2J\x1b[Hcleared"), "^[[2J^[[Hcleared");
  assert.equal(neutralize("\x1b]0;pwned\x07title"), "^[]0;pwned^Gtitle");
  assert.equal(neutralize("\x1b]52;c;cm0gLXJmIH4=\x1b\\"), "^[]52;c;cm0gLXJmIH4=^[\\");
  assert.equal(neutralize("password\rhidden"), "password^Mhidden");
  assert.equal(neutralize("abc\b\b\bxyz"), "abc^H^H^Hxyz");
  assert.equal(neutralize("\x9b31mC1 CSI\x9d"), "M-^[31mC1 CSIM-^]");
  assert.equal(neutralize("del\x7f"), "del^?");
  assert.equal(neutralize("admin\u202Eexe.txt"), "admin<U+202E>exe.txt");
});

test("tabs, newlines, text and a CRLF line ending are left as they are", () => {
  assert.equal(neutralize("a\tb\nc"), "a\tb\nc");
  assert.equal(neutralize("windows line\r"), "windows line");
  assert.equal(neutralize("two\r\nlines\r"), "two\nlines");
  assert.equal(neutralize("héllo wörld ✓ 日本"), "héllo wörld ✓ 日本");
});

test("a large output of nothing but escapes is handled in one pass, and nothing of it survives raw", () => {
  const evil = "\x1b[".repeat(1_000_000) + "\x07".repeat(1_000_000);
  const shown = neutralize(evil);
  assert.equal(shown.length, 3 * 1_000_000 + 2 * 1_000_000);
  assert.doesNotMatch(shown, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
});
