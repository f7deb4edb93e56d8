import { test } from "node:test";
import assert from "node:assert/strict";
import { artifactsDirOf } from "../../../src/report/artifacts.js";

test("a job's artifacts folder, and in a multi-host job one folder per host under it, named portably", () => {
  assert.equal(artifactsDirOf("/a", "local:sys:cluster/http"), "/a/local/sys/cluster/http");
  assert.equal(artifactsDirOf("/a", "local:sys:cluster/http", { as: "client-1" }), "/a/local/sys/cluster/http/client-1");
  assert.equal(artifactsDirOf("/a", "lxd:u:t/x:v1#2", { as: "server" }), "/a/lxd/u/t/x,v1#2/server");
  // A name in the job is a path segment: nothing in it climbs out or splits it.
  assert.equal(artifactsDirOf("/a", "local:sys:t", { as: ".." }), "/a/local/sys/t/%2E%2E");
  assert.equal(artifactsDirOf("/a", "local:sys:t", { as: "a/b:c" }), "/a/local/sys/t/a%2Fb%3Ac");
});

test("a Spread project's job keeps Spread's folder name, which its own checks read", () => {
  assert.equal(artifactsDirOf("/a", "lxd:ubuntu-16.04:checks/main:a", { layout: "spread" }), "/a/lxd:ubuntu-16.04:checks/main:a");
  assert.equal(artifactsDirOf("/a", "lxd:ubuntu-16.04:checks/main:a", { layout: "portable" }), "/a/lxd/ubuntu-16.04/checks/main,a");
});
