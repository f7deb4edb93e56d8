import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeArgs, encodeArgs, escapeToken, formatAnswer, parseRelayLine, unescape } from "../../../src/sync/codec.js";
import { formatDuration, parseDuration } from "../../../src/sync/duration.js";

const NASTY = ["", " ", "a b", "q\"uo'te", "back\\slash", "new\nline", "tab\there", "cr\r", "k=v=w", "\\n literal", "é ü 中", "--x", "-"];

test("argument encoding round-trips every byte that matters, and never contains a space or newline", () => {
  const body = encodeArgs(NASTY);
  assert.doesNotMatch(body.split(" ").join(""), /[ \n\r\t]/);
  assert.equal(body.split(" ").length, NASTY.length);
  assert.deepEqual(decodeArgs(body), NASTY);
  assert.equal(escapeToken(""), "\\-");
  assert.equal(escapeToken("a b\\"), "a\\sb\\\\");
  assert.deepEqual(decodeArgs(""), []);
});

test("an answer is a header and its text's lines, raw", () => {
  assert.equal(formatAnswer("12.3", 0, ""), "12.3 0 0\n");
  assert.equal(formatAnswer("12.3", 0, "one\n"), "12.3 0 2\none\n\n");
  assert.equal(formatAnswer("12.3", 125, "a \\n b\nc"), "12.3 125 2\na \\n b\nc\n");
  assert.equal(unescape("trailing\\"), "trailing\\");
});

test("relay lines are told apart", () => {
  assert.deepEqual(parseRelayLine("123.4+ kv set"), { kind: "chunk", id: "123.4", body: "kv set", more: true });
  assert.deepEqual(parseRelayLine("123.4 barrier\\sx ready"), { kind: "chunk", id: "123.4", body: "barrier\\sx ready", more: false });
  assert.deepEqual(parseRelayLine("123.4 "), { kind: "chunk", id: "123.4", body: "", more: false });
  assert.deepEqual(parseRelayLine("C 99.0"), { kind: "cancel", id: "99.0" });
  assert.deepEqual(parseRelayLine("G 99.x99-0"), { kind: "gone", id: "99.x99-0" });
  assert.deepEqual(parseRelayLine("77.x77-fire unlock L t"), { kind: "chunk", id: "77.x77-fire", body: "unlock L t", more: false });
  assert.equal(parseRelayLine("G 99.0.0").kind, "junk");
  assert.equal(parseRelayLine("G 99.A").kind, "junk");
  assert.deepEqual(parseRelayLine("P 1F90"), { kind: "port", port: 8080 });
  assert.deepEqual(parseRelayLine("H /usr/bin:/bin"), { kind: "hello", path: "/usr/bin:/bin" });
  assert.equal(parseRelayLine("hello there").kind, "junk");
  assert.equal(parseRelayLine("C ../x").kind, "junk");
  assert.equal(parseRelayLine("P nothex").kind, "junk");
});

test("durations", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("1m"), 60_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("45"), 45_000);
  assert.equal(parseDuration("0.5"), 500);
  assert.equal(parseDuration("0"), 0);
  for (const bad of ["", "s", "1x", "1m 30s", "-1s", "1.s"]) assert.throws(() => parseDuration(bad), /bad duration/, bad);
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(20), "20ms");
  assert.equal(formatDuration(1500), "1.5s");
  assert.equal(formatDuration(3_600_000), "1h");
});
