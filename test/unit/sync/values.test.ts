import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { byteLength, bytesToText, checkValue, printable, textToBytes, VALUE_LIMIT } from "../../../src/sync/values.js";
import { isSyncError } from "../../../src/sync/errors.js";

const latin1 = (b: Buffer): string => b.toString("latin1");

test("bytes that are not UTF-8 survive the trip through text, byte for byte", () => {
  const cases = [
    Buffer.from("plain ascii"),
    Buffer.from("héllo ✓ 😀"),
    Buffer.from([0x78, 0xff, 0x79, 0xc3, 0x28, 0xe0, 0x80, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xc3]),
    Buffer.from([0xf0, 0x9f, 0x98]), // a character cut short
  ];
  for (const b of cases) {
    const text = bytesToText(latin1(b));
    assert.deepEqual([...textToBytes(text)], [...b]);
    assert.equal(byteLength(text), b.length);
  }
  assert.equal(bytesToText(latin1(Buffer.from("héllo"))), "héllo");
  assert.equal(bytesToText("x\xffy"), "x\udcffy");
});

test("printable: one line whatever the value; printf '%b' gives the bytes back", () => {
  assert.equal(printable("alice\nROLE=admin"), "alice\\0012ROLE=admin");
  assert.equal(printable("a\\nb\\c"), "a\\\\nb\\\\c");
  assert.equal(printable("é✓\t\r\x7f\x85"), "é✓\\0011\\0015\\0177\\0302\\0205");
  for (const b of [Buffer.from("a\nb\\c\\0101=\x01"), Buffer.from([0x41, 0xff, 0x0a, 0x5c, 0x63, 0x42])]) {
    const line = printable(bytesToText(latin1(b)));
    assert.ok(!line.includes("\n"));
    const back = execFileSync("sh", ["-c", 'printf "%b" "$1"', "sh", line]);
    assert.deepEqual([...back], [...b]);
  }
});

test("checkValue: the limit in bytes, and no NUL", () => {
  checkValue("kv set k", "v".repeat(VALUE_LIMIT));
  assert.throws(
    () => checkValue("kv set k", "é".repeat(VALUE_LIMIT / 2) + "x"),
    (e) => isSyncError(e) && e.exitCode === 64 && /kv set k: value too large \(32769 bytes, at most 32768\)/.test(e.message),
  );
  assert.throws(
    () => checkValue("kv set k", "a\u0000b"),
    (e) => isSyncError(e) && /NUL/.test(e.message),
  );
});
