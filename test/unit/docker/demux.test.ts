// The engine's multiplexed exec stream, cut at every possible place.

import { test } from "node:test";
import assert from "node:assert/strict";
import { frame, StreamDemux, type StreamKind } from "../../../src/backends/docker/demux.js";

function demuxAll(chunks: readonly Buffer[]): { out: string; err: string; order: StreamKind[]; complete: boolean } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const order: StreamKind[] = [];
  const d = new StreamDemux((kind, payload) => {
    (kind === "stdout" ? out : err).push(Buffer.from(payload));
    if (order.at(-1) !== kind) order.push(kind);
  });
  for (const c of chunks) d.push(c);
  return { out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString(), order, complete: d.complete };
}

const stream = Buffer.concat([
  frame("stdout", "hello "),
  frame("stderr", "oops\n"),
  frame("stdout", "world\n"),
  frame("stdout", ""),
  frame("stderr", "é€"),
]);

test("frames in one chunk: stdout and stderr apart, in order", () => {
  assert.deepEqual(demuxAll([stream]), {
    out: "hello world\n",
    err: "oops\né€",
    order: ["stdout", "stderr", "stdout", "stderr"],
    complete: true,
  });
});

test("cut at every byte boundary, in two and in single bytes, the same result", () => {
  const whole = demuxAll([stream]);
  for (let i = 0; i <= stream.length; i++) {
    const r = demuxAll([stream.subarray(0, i), stream.subarray(i)]);
    assert.equal(r.out, whole.out, `cut at ${i}`);
    assert.equal(r.err, whole.err, `cut at ${i}`);
    assert.ok(r.complete);
  }
  const bytes = [...stream].map((b) => Buffer.from([b]));
  const r = demuxAll(bytes);
  assert.equal(r.out + r.err, whole.out + whole.err);
});

test("a stream cut inside a frame is not complete", () => {
  assert.equal(demuxAll([stream.subarray(0, 10)]).complete, false);
  assert.equal(demuxAll([stream.subarray(0, 3)]).complete, false);
});

test("a large frame (over 64 KiB) arrives whole", () => {
  const big = Buffer.alloc(200_000, "x");
  const f = frame("stdout", big);
  const chunks: Buffer[] = [];
  for (let i = 0; i < f.length; i += 65536) chunks.push(f.subarray(i, i + 65536));
  assert.equal(demuxAll(chunks).out.length, 200_000);
});
