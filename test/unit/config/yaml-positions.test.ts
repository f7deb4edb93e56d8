import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPath, locate, parseYaml, toPlain } from "../../../src/config/yaml-positions.js";
import { MAX_ALIAS_NODES, MAX_INPUT_BYTES } from "../../../src/config/yaml-limits.js";
import { ALIAS_BOMB } from "./helpers.js";

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

describe("parseYaml: limits", () => {
  it("refuses an alias bomb at the alias that makes it too large, without expanding it", () => {
    const { root, problems } = parseYaml(ALIAS_BOMB, "bomb.yaml");
    assert.equal(root, undefined);
    assert.equal(problems.length, 1);
    // a1..a4 add 90 + 819 + 7380 + 66429 values; the first *a4 in a5 adds 66430 more.
    assert.deepEqual(problems[0]?.pos, { file: "bomb.yaml", line: 7, col: 10 });
    assert.equal(problems[0]?.path, "a5[0]");
    assert.match(problems[0]?.message ?? "", /^alias \*a4 expands the file past 100000 values/);
    assert.match(problems[0]?.message ?? "", /write the values out or use fewer aliases of aliases/);
  });

  it("counts what << merge keys bring in", () => {
    const big = `base: &b {${Array.from({ length: 50 }, (_, i) => `k${i}: ${i}`).join(", ")}}\n`;
    const uses = Array.from({ length: 30 }, (_, i) => `s${i}: {<<: *b}`).join("\n");
    assert.equal(parseYaml(big + uses, "m.yaml").problems.length, 0);
    const { root, problems } = parseYaml(big + uses, "m.yaml", { maxAliasNodes: 29 * 101 });
    assert.equal(root, undefined);
    assert.deepEqual(problems[0]?.pos, { file: "m.yaml", line: 31, col: 11 });
    assert.equal(problems[0]?.path, "s29.<<");
  });

  it("reads many aliases of a small anchor, each an equal copy", () => {
    const uses = Array.from({ length: 5000 }, (_, i) => `  t${i}: *e`).join("\n");
    const { root, problems } = parseYaml(`env: &e {A: 1, B: two, C: [p, q]}\nall:\n${uses}\n`, "many.yaml");
    assert.deepEqual(problems, []);
    const plain = toPlain(root) as { all: Record<string, unknown> };
    assert.equal(Object.keys(plain.all).length, 5000);
    assert.deepEqual(plain.all["t4999"], { A: 1, B: "two", C: ["p", "q"] });
    // A value reached through an alias points at the anchor's text.
    assert.equal(where(`env: &e {A: 1}\nall:\n${uses}\n`, ["all", "t10", "A"]), "1:13 key 1:10");
  });

  it("stays within its budget as written: the limit counts values added through aliases", () => {
    assert.ok(MAX_ALIAS_NODES >= 100_000);
    const text = `a: &a [${Array.from({ length: 99 }, () => "x").join(",")}]\nb: [*a, *a]\n`;
    assert.equal(parseYaml(text, "x.yaml", { maxAliasNodes: 200 }).problems.length, 0);
    assert.equal(parseYaml(text, "x.yaml", { maxAliasNodes: 199 }).problems[0]?.path, "b[1]");
  });

  it("refuses nesting past the limit while parsing, before the parser's recursion can overflow the stack", () => {
    for (const text of [`a: ${"[".repeat(100_000)}`, `${"- ".repeat(100_000)}x`, `${"{a: ".repeat(100_000)}`]) {
      const { root, problems } = parseYaml(text, "deep.yaml");
      assert.equal(root, undefined);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.pos?.line, 1);
      assert.match(problems[0]?.message ?? "", /^the file nests lists and maps too deeply \(more than 300 levels\); flatten it$/);
    }
  });

  it("reads nesting within the limit", () => {
    const { root, problems } = parseYaml(`a: ${"[".repeat(150)}x${"]".repeat(150)}\n`, "ok.yaml");
    assert.deepEqual(problems, []);
    let depth = 0;
    let v: unknown = (toPlain(root) as { a: unknown }).a;
    while (Array.isArray(v)) {
      v = v[0];
      depth++;
    }
    assert.equal(depth, 150);
    assert.equal(v, "x");
  });

  it("refuses text larger than the input limit before parsing it", () => {
    const text = `a: "${"x".repeat(MAX_INPUT_BYTES)}"\n`;
    const { root, problems } = parseYaml(text, "huge.yaml");
    assert.equal(root, undefined);
    assert.deepEqual(problems[0]?.pos, { file: "huge.yaml", line: 1, col: 1 });
    assert.match(problems[0]?.message ?? "", /more than troupe reads \(4 MiB\)/);
  });
});

describe("formatPath", () => {
  it("writes dotted paths with list indexes, leaving out a system's name after its index", () => {
    assert.equal(formatPath(["backends", "lxd", "systems", 0, "ubuntu-16.04", "workers"]), "backends.lxd.systems[0].workers");
    assert.equal(formatPath(["suites", "tests/main/", "environment", "A"]), "suites.tests/main/.environment.A");
    assert.equal(formatPath(["artifacts", 2]), "artifacts[2]");
  });
});
