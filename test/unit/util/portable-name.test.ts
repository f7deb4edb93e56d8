import { test } from "node:test";
import assert from "node:assert/strict";
import { artifactPath, portableSegment } from "../../../src/util/portable-name.js";

/** What actions/upload-artifact refuses in a path. */
const REFUSED = /["<>|*?:\r\n]/;

test("artifact paths: a folder per name part, the variant after a comma, no character CI uploaders refuse", () => {
  assert.equal(artifactPath("local:localhost:checks/report"), "local/localhost/checks/report");
  assert.equal(artifactPath("lxd:ubuntu-24.04:tests/main/hello:v1"), "lxd/ubuntu-24.04/tests/main/hello,v1");
  assert.equal(artifactPath("local:localhost:checks/report#2"), "local/localhost/checks/report#2");
  assert.equal(artifactPath("local:localhost:checks/report:v1#3"), "local/localhost/checks/report,v1#3");
});

test("artifact paths stay unique: names that differ map to different paths, and odd characters are %-encoded", () => {
  const names = [
    "local:localhost:checks/a:v1",
    "local:localhost:checks/a,v1",
    "local:localhost:checks/a%2Cv1",
    "local:localhost:checks/a:v1:x",
    "local:localhost:checks/a?b",
    "local:localhost:checks/a*b",
    "local:local|host:checks/a",
    'local:localhost:checks/"q"',
    "local:localhost:checks/a\nb",
    "local:localhost:checks/..",
  ];
  const paths = names.map(artifactPath);
  assert.equal(new Set(paths).size, names.length, paths.join("\n"));
  for (const p of paths) {
    assert.doesNotMatch(p, REFUSED, p);
    assert.ok(!p.split("/").includes(".."), p);
  }
  assert.equal(artifactPath("local:localhost:checks/a?b"), "local/localhost/checks/a%3Fb");
});

test("a host name as one file name segment", () => {
  assert.equal(portableSegment("web-01"), "web-01");
  assert.equal(portableSegment("root@node1:22"), "root@node1%3A22");
  assert.equal(portableSegment("a/b"), "a%2Fb");
  assert.equal(portableSegment(".."), "%2E%2E");
});
