import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupCount, PatternError, selectHosts } from "../../../src/scenario/select.js";

const hosts = ["node-1", "node-2", "node-10", "client-1", "db"].map((name) => ({ name }));

describe("stage host selection", () => {
  it("matches whole names only: node-1 does not select node-10", () => {
    assert.deepEqual(
      selectHosts(hosts, ["node-1"]).map((s) => s.host.name),
      ["node-1"],
    );
  });

  it("gives captures: re[0] the whole name, re[1] the first group", () => {
    const got = selectHosts(hosts, ["node-(\\d+)"]);
    assert.deepEqual(
      got.map((s) => [s.host.name, [...s.re]]),
      [
        ["node-1", ["node-1", "1"]],
        ["node-2", ["node-2", "2"]],
        ["node-10", ["node-10", "10"]],
      ],
    );
  });

  it("keeps the hosts' order and takes captures from the first pattern that matches", () => {
    const got = selectHosts(hosts, ["(client)-(\\d)", "(.*)"]);
    assert.deepEqual(
      got.map((s) => [s.host.name, [...s.re]]),
      [
        ["node-1", ["node-1", "node-1"]],
        ["node-2", ["node-2", "node-2"]],
        ["node-10", ["node-10", "node-10"]],
        ["client-1", ["client-1", "client", "1"]],
        ["db", ["db", "db"]],
      ],
    );
  });

  it("gives named groups as re.NAME and groups that did not match as empty text", () => {
    const [s] = selectHosts([{ name: "node-7" }], ["node-(?<id>\\d+)(-x)?"]);
    assert.equal(s?.re["id"], "7");
    assert.equal(s?.re[2], "");
  });

  it("refuses a pattern that is not a regular expression, naming it", () => {
    assert.throws(
      () => selectHosts(hosts, ["(node"]),
      (e: unknown) =>
        e instanceof PatternError && /with_hosts '\(node' is not a valid regular expression: Unterminated group/.test(e.message),
    );
  });

  it("counts capture groups", () => {
    assert.equal(groupCount("node-(\\d+)"), 1);
    assert.equal(groupCount("(a)-(b)|(c)"), 3);
    assert.equal(groupCount(".*"), 0);
  });
});
