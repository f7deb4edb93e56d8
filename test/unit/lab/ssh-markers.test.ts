import { test } from "node:test";
import assert from "node:assert/strict";
import { MarkerFilter, type MarkerKind } from "../../../src/transport/ssh/markers.js";

function run(chunks: string[], token = "abc"): { out: string; markers: [MarkerKind, number][] } {
  const markers: [MarkerKind, number][] = [];
  const f = new MarkerFilter(token, (k, v) => markers.push([k, v]));
  let out = "";
  for (const c of chunks) out += f.push(Buffer.from(c, "latin1")).toString("latin1");
  out += f.end().toString("latin1");
  return { out, markers };
}

const whole = "junk\n<<troupe:abc:pgid:42>>\nerr 1\nerr 2\n<<troupe:abc:exit:7>>\ntail";

test("markers are taken out and reported; the rest passes through", () => {
  const r = run([whole]);
  assert.deepEqual(r.markers, [
    ["pgid", 42],
    ["exit", 7],
  ]);
  assert.equal(r.out, "junk\nerr 1\nerr 2\ntail");
});

test("every way of cutting the stream gives the same result", () => {
  for (let i = 0; i <= whole.length; i++) {
    for (const j of [i, Math.min(whole.length, i + 1), Math.min(whole.length, i + 5)]) {
      const r = run([whole.slice(0, i), whole.slice(i, j), whole.slice(j)]);
      assert.equal(r.out, "junk\nerr 1\nerr 2\ntail", `cut at ${i},${j}`);
      assert.equal(r.markers.length, 2);
    }
  }
  const bytes = [...whole].map((c) => c);
  const r = run(bytes);
  assert.equal(r.out, "junk\nerr 1\nerr 2\ntail");
});

test("another session's token, a broken marker and a partial one at the end are plain text", () => {
  const text = "<<troupe:xyz:pgid:1>>\n<<troupe:abc:pgid:x>>\n<<troupe:abc:exit:12";
  const r = run([text]);
  assert.deepEqual(r.markers, []);
  assert.equal(r.out, text);
});

test("binary bytes survive unchanged", () => {
  const markers: number[] = [];
  const f = new MarkerFilter("t", (_k, v) => markers.push(v));
  const bin = Buffer.from([0, 255, 128, 10, 60, 60]);
  const out = Buffer.concat([f.push(bin), f.push(Buffer.from("<<troupe:t:exit:0>>\n")), f.push(Buffer.from([200, 201])), f.end()]);
  assert.deepEqual([...out], [0, 255, 128, 10, 60, 60, 200, 201]);
  assert.deepEqual(markers, [0]);
});

test("the command loop's done and busy markers are taken out of either stream, however cut", () => {
  const text = "out<<troupe:abc:done:0>>\nmore<<troupe:abc:busy:1234>>\n";
  for (let i = 0; i <= text.length; i++) {
    const r = run([text.slice(0, i), text.slice(i)]);
    assert.equal(r.out, "outmore", `cut at ${i}`);
    assert.deepEqual(r.markers, [
      ["done", 0],
      ["busy", 1234],
    ]);
  }
  // Not a marker: unknown kind, or no number.
  assert.equal(run(["<<troupe:abc:gone:1>>\n<<troupe:abc:done:>>\n"]).out, "<<troupe:abc:gone:1>>\n<<troupe:abc:done:>>\n");
});
