import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJobName, safeName, summaryName, UniqueNames } from "../../../src/report/names.js";
import { formatElapsed, formatTimestamp, outputOrError, tail } from "../../../src/report/format.js";

test("parseJobName splits Spread job names", () => {
  assert.deepEqual(parseJobName("google:ubuntu-16.04-64:tests/main/hello:v1#3"), {
    backend: "google",
    system: "ubuntu-16.04-64",
    suite: "tests/main/",
    task: "tests/main/hello",
    variant: "v1",
    sample: 3,
  });
  assert.deepEqual(parseJobName("local:debian:checks/x"), {
    backend: "local",
    system: "debian",
    suite: "checks/",
    task: "checks/x",
    variant: "",
    sample: 1,
  });
  assert.equal(summaryName("a:b:c/d:v#2"), "a:b:c/d:v");
});

test("safeName: readable, file-system safe, bounded; UniqueNames keeps them apart", () => {
  assert.equal(safeName("local:debian-12:tests/main/hello:v1#2"), "local_debian-12_tests-main-hello_v1_2");
  assert.equal(safeName("..hidden/x"), "hidden-x");
  assert.equal(safeName("a b\u00e9*?"), "a_b___");
  const long = safeName("x:".repeat(200));
  assert.equal(long.length, 120);
  assert.match(long, /-[0-9a-f]{8}$/);
  assert.notEqual(long, safeName("y:" + "x:".repeat(199)));
  const u = new UniqueNames();
  assert.deepEqual([u.take("a"), u.take("a"), u.take("a"), u.take("b")], ["a", "a.2", "a.3", "b"]);
});

test("format helpers: time prefix, elapsed, Spread's output block and tail", () => {
  assert.equal(formatTimestamp(Date.UTC(2016, 5, 2, 3, 4, 5), "utc"), "2016-06-02 03:04:05");
  assert.equal(formatElapsed(999), "0s");
  assert.equal(formatElapsed(65_000), "1m05s");
  assert.equal(formatElapsed(3_725_000), "1h02m");
  assert.equal(outputOrError("  one line \n", "fallback"), "one line");
  assert.equal(outputOrError("a\nb", "fallback"), "\n-----\na\nb\n-----");
  assert.equal(outputOrError(" \n", "fallback"), "fallback");
  const thirteen = Array.from({ length: 13 }, (_, i) => String(i)).join("\n");
  assert.equal(tail(thirteen), thirteen);
  const fourteen = Array.from({ length: 14 }, (_, i) => String(i)).join("\n");
  assert.equal(tail(fourteen), "(... 4 lines above ...)\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13");
});
