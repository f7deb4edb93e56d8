import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseYaml } from "../../../src/config/yaml-positions.js";
import { detectDialect, octogramScalar } from "../../../src/scenario/dialect.js";
import { octogramPath } from "../../../src/scenario/octogram.js";
import { selectHosts } from "../../../src/scenario/select.js";

describe("Octogram recipes", () => {
  it("are told from troupe scenarios by their keys, and mixing them is an error at the key", () => {
    const root = (text: string) => parseYaml(text, "f.yml").root;
    assert.equal(detectDialect(root("agents: []\nstages: []\n")).dialect, "octogram");
    assert.equal(detectDialect(root("stages:\n  - name: s\n    with_agents: x\n    jobs: []\n")).dialect, "octogram");
    assert.equal(detectDialect(root("hosts: [a]\nstages: []\n")).dialect, "troupe");
    assert.equal(detectDialect(root("stages: []\n")).dialect, "troupe");
    const mixed = detectDialect(root("hosts: [a]\nstages:\n  - name: s\n    jobs:\n      - copy: {local_path: a, remote_path: b}\n"));
    assert.deepEqual(
      mixed.problems.map((p) => `${p.pos?.line}:${p.pos?.col} ${p.message.split(";")[0]}`),
      [
        "5:16 'local_path' is Octogram's key, but this file is a troupe scenario ('hosts' at line 1)",
        "5:31 'remote_path' is Octogram's key, but this file is a troupe scenario ('hosts' at line 1)",
      ],
    );
  });

  it("read plain scalars as OCaml's yaml package does", () => {
    const read = (t: string) => octogramScalar(t);
    assert.deepEqual(["y", "Yes", "ON", "true"].map(read), [true, true, true, true]);
    assert.deepEqual(["n", "NO", "off", "False"].map(read), [false, false, false, false]);
    assert.deepEqual(["~", "null", ""].map(read), [null, null, null]);
    assert.deepEqual(["1_000", "0x1f", "0755", "1e3", "-2.5"].map(read), [1000, 31, 755, 1000, -2.5]);
    assert.deepEqual(["yep", "1:20", "delegate_", "10..109"].map(read), ["yep", "1:20", "delegate_", "10..109"]);
    const parsed = parseYaml("a: [y, 'y', 0755, \"on\"]\n", "f.yml", {}, { plain: octogramScalar }).root;
    assert.ok(parsed?.kind === "map");
    const items = parsed.entries[0]!.value;
    assert.ok(items.kind === "seq");
    assert.deepEqual(
      items.items.map((i) => (i.kind === "scalar" ? i.value : undefined)),
      [true, "y", 755, "on"],
    );
  });

  it("map troupe's paths back to the recipe's keys", () => {
    assert.deepEqual(octogramPath(["hosts", 2, "names"]), ["agents", 2, "name"]);
    assert.deepEqual(octogramPath(["stages", 1, "with_hosts", 0]), ["stages", 1, "with_agents", 0]);
    assert.deepEqual(octogramPath(["stages", 0, "jobs", 3, "copy", "to"]), ["stages", 0, "jobs", 3, "copy", "remote_path"]);
  });

  it("select agents by a match anywhere in the name, with the groups of every match", () => {
    const hosts = [{ name: "boot_" }, { name: "delegate_0" }, { name: "delegate_10" }, { name: "7" }];
    assert.deepEqual(
      selectHosts(hosts, ["(delegate_)"], "partial").map((s) => s.host.name),
      ["delegate_0", "delegate_10"],
    );
    assert.deepEqual(
      selectHosts(hosts, ["^[0-9]*$"], "partial").map((s) => s.host.name),
      ["7"],
    );
    assert.deepEqual([...selectHosts([{ name: "a1b2" }], ["([a-z])(\\d)"], "partial")[0]!.re], ["a1", "a", "1", "b2", "b", "2"]);
    assert.deepEqual(
      selectHosts(hosts, ["delegate_"]).map((s) => s.host.name),
      [],
    );
  });
});
