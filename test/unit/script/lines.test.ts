import assert from "node:assert/strict";
import { test } from "node:test";
import { LineSplitter } from "../../../src/script/lines.js";
import { shownTail, TailBuffer } from "../../../src/script/tail.js";

type Piece = [string, boolean];

function collect(options?: ConstructorParameters<typeof LineSplitter>[1]): { pieces: Piece[]; s: LineSplitter } {
  const pieces: Piece[] = [];
  return { pieces, s: new LineSplitter((text, partial) => pieces.push([text, partial]), options) };
}

test("lines across chunks and multi-byte characters, CRLF, and the last line without its newline", () => {
  const { pieces, s } = collect();
  const bytes = Buffer.from("héllo wo", "utf8");
  s.push(bytes.subarray(0, 2)); // cuts é in half
  s.push(bytes.subarray(2));
  s.push(Buffer.from("rld\r\nsecond\nthi"));
  assert.deepEqual(pieces, [
    ["héllo world", false],
    ["second", false],
  ]);
  s.push(Buffer.from("rd"));
  s.end();
  assert.deepEqual(pieces.at(-1), ["third", false]);
});

test("a line longer than maxLine comes in pieces as it grows, and the pieces make the line", () => {
  const { pieces, s } = collect({ maxLine: 10 });
  s.push(Buffer.from("0123456"));
  assert.deepEqual(pieces, [], "nothing before the bound is reached");
  s.push(Buffer.from("789abcdefghijklmnopq"));
  assert.deepEqual(pieces, [
    ["0123456789", true],
    ["abcdefghij", true],
  ]);
  s.push(Buffer.from("rs\nnext\n"));
  assert.deepEqual(pieces.slice(2), [
    ["klmnopqrs", false],
    ["next", false],
  ]);
});

test("one 40 MB line in 64 KiB chunks: pieces of the bound, nothing lost, never the whole line at once", () => {
  const max = 64 * 1024;
  let longest = 0;
  let total = 0;
  let ends = 0;
  const s = new LineSplitter(
    (text, partial) => {
      longest = Math.max(longest, text.length);
      total += text.length;
      if (!partial) ends++;
    },
    { maxLine: max },
  );
  const chunk = Buffer.alloc(64 * 1024, "x");
  for (let i = 0; i < 640; i++) s.push(chunk);
  s.push(Buffer.from("\n"));
  s.end();
  assert.equal(total, 640 * chunk.length);
  assert.equal(ends, 1, "one line");
  assert.ok(longest <= max, `longest piece ${longest}`);
});

test("latin1 keeps every byte as one character; CR is kept when asked", () => {
  const { pieces, s } = collect({ encoding: "latin1", stripCR: false });
  s.push(Buffer.from([0xc3, 0x0d, 0x0a, 0xff, 0x0a]));
  assert.deepEqual(pieces, [
    ["\u00c3\r", false],
    ["\u00ff", false],
  ]);
});

test("a tail keeps the last characters, counts what it dropped, and says so when shown", () => {
  const t = new TailBuffer(10);
  for (let i = 0; i < 100; i++) t.append(`${i % 10}`);
  assert.equal(t.text(), "0123456789");
  assert.equal(t.dropped, 90);
  assert.equal(t.truncated, true);
  assert.equal(shownTail("ab\ncd\n", true), "(... output cut ...)\ncd\n");
  assert.equal(shownTail("ab\ncd\n", false), "ab\ncd\n");
  const small = new TailBuffer(10);
  small.append("abc");
  assert.equal(small.truncated, false);
  small.reset();
  assert.equal(small.text(), "");
});
