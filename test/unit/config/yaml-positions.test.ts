import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPath, locate, parseYaml, toPlain } from "../../../src/config/yaml-positions.js";

const where = (text: string, path: (string | number)[]): string => {
  const { root } = parseYaml(text, "f.yaml");
  const at = locate(root, path, "f.yaml");
  return `${at.pos.line}:${at.pos.col}${at.keyPos ? ` key ${at.keyPos.line}:${at.keyPos.col}` : ""}`;
};

describe("parseYaml", () => {
  it("keeps the position of every key and value", () => {
    const text = "project: x\nbackends:\n  lab:\n    systems:\n      - ubuntu-24.04\n      - debian-12:\n          workers: 2\n";
    assert.equal(where(text, ["project"]), "1:10 key 1:1");
    assert.equal(where(text, ["backends", "lab", "systems", 0]), "5:9");
    assert.equal(where(text, ["backends", "lab", "systems", 1, "debian-12", "workers"]), "7:20 key 7:11");
  });

  it("points at the key when the value is empty, and at the nearest parent when the path does not exist", () => {
    const text = "a:\n  b:\n  c: 1\n";
    assert.equal(where(text, ["a", "b"]), "2:3 key 2:3");
    assert.equal(where(text, ["a", "zz"]), "2:3");
  });

  it("reads YAML 1.1 scalars as yaml.v2 does, keeping the written text", () => {
    const { root } = parseYaml("a: yes\nb: 1.10\nc: ~\nd: '007'\ne: 0x1F\n", "f.yaml");
    assert.deepEqual(toPlain(root), { a: true, b: 1.1, c: undefined, d: "007", e: 31 });
    assert.ok(root?.kind === "map");
    assert.deepEqual(
      root.entries.map((e) => (e.value.kind === "scalar" ? e.value.text : "?")),
      ["yes", "1.10", "", "007", "0x1F"],
    );
  });

  it("resolves aliases and << merge keys, explicit keys winning", () => {
    const text = "base: &b\n  user: u\n  pass: p\nsys:\n  <<: *b\n  pass: q\n";
    const { root, problems } = parseYaml(text, "f.yaml");
    assert.deepEqual(problems, []);
    assert.deepEqual(toPlain(root), { base: { user: "u", pass: "p" }, sys: { user: "u", pass: "q" } });
    // A merged value points at where it was written: the anchor.
    assert.equal(where(text, ["sys", "user"]), "2:9 key 2:3");
  });

  it("keeps duplicate keys for the loader to report; the last one wins", () => {
    const { root, problems } = parseYaml("a: 1\na: 2\n", "f.yaml");
    assert.deepEqual(problems, []);
    assert.ok(root?.kind === "map");
    assert.equal(root.entries.length, 2);
    assert.deepEqual(toPlain(root), { a: 2 });
  });

  it("reads JSON", () => {
    const { root } = parseYaml('{"project": "j", "suites": {"t/": {"summary": "s"}}}', "f.json");
    assert.deepEqual(toPlain(root), { project: "j", suites: { "t/": { summary: "s" } } });
  });

  it("reports the first syntax error with its position", () => {
    const { root, problems } = parseYaml("a: [1,\nb: 2\n", "bad.yaml");
    assert.equal(root, undefined);
    assert.equal(problems.length, 1);
    assert.deepEqual(problems[0]?.pos, { file: "bad.yaml", line: 2, col: 1 });
    assert.match(problems[0]?.message ?? "", /^invalid YAML: /);
  });

  it("treats an empty document as no root", () => {
    assert.deepEqual(parseYaml("", "e.yaml"), { root: undefined, problems: [] });
    assert.deepEqual(parseYaml("# only a comment\n", "e.yaml"), { root: undefined, problems: [] });
  });
});

describe("formatPath", () => {
  it("writes dotted paths with list indexes, leaving out a system's name after its index", () => {
    assert.equal(formatPath(["backends", "lxd", "systems", 0, "ubuntu-16.04", "workers"]), "backends.lxd.systems[0].workers");
    assert.equal(formatPath(["suites", "tests/main/", "environment", "A"]), "suites.tests/main/.environment.A");
    assert.equal(formatPath(["artifacts", 2]), "artifacts[2]");
  });
});
