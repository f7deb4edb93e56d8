import { test } from "node:test";
import assert from "node:assert/strict";
import { artifactsDirOf } from "../../../src/report/artifacts.js";

test("a job's artifacts folder, and in a multi-host job one folder per host under it, named portably", () => {
  assert.equal(artifactsDirOf("/a", "local:sys:cluster/http"), "/a/local/sys/cluster/http");
  assert.equal(artifactsDirOf("/a", "local:sys:cluster/http", "client-1"), "/a/local/sys/cluster/http/client-1");
  assert.equal(artifactsDirOf("/a", "lxd:u:t/x:v1#2", "server"), "/a/lxd/u/t/x,v1#2/server");
  // A name in the job is a path segment: nothing in it climbs out or splits it.
  assert.equal(artifactsDirOf("/a", "local:sys:t", ".."), "/a/local/sys/t/%2E%2E");
  assert.equal(artifactsDirOf("/a", "local:sys:t", "a/b:c"), "/a/local/sys/t/a%2Fb%3Ac");
});
