import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseWithPackage } from "../../../src/config/yaml-positions.js";
import { parseSimpleYaml } from "../../../src/config/yaml-simple.js";

/** The fast reading of `text`, which must be the package's whenever there is one; whether there was one. */
function same(text: string): boolean {
  const fast = parseSimpleYaml(text, "f.yaml");
  if (fast === undefined) return false;
  assert.deepEqual(fast, parseWithPackage(text, "f.yaml"), `read differently:\n${text}`);
  return true;
}

/** Every .yaml file of the repository's sources, tests and examples. */
function repositoryYaml(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) repositoryYaml(path, out);
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe("parseSimpleYaml", () => {
  it("reads plain keys with plain values and literal blocks, positions included, as the yaml package does", () => {
    const texts = [
      "summary: trivial\nexecute: echo hello\n",
      "# a comment\n\nsummary: a task\nexecute: |\n    echo one\n      indented\n\n    echo two\n\n\nrestore: rm -f /tmp/x\n",
      "summary: x\nexecute: |\n  a\n",
      "summary:    spaced\nexecute: $HOME/bin/run --flag=1 a,b [c] {d}\n",
      "details: /usr/bin/true\nexecute: sh ./run\n",
      "k_1.x-y: a:b\n",
      "summary: trailing block\nexecute: |\n  echo   \n  done\n",
    ];
    for (const text of texts) assert.ok(same(text), `not read by the fast path:\n${text}`);
  });

  it("leaves whatever it is not sure of to the package", () => {
    const texts = [
      "a: yes\n",
      "a: On\n",
      "a: null\n",
      "a: 1\n",
      "a: .5\n",
      "a: -x\n",
      "a: ~\n",
      "a: 'quoted'\n",
      'a: "quoted"\n',
      "a: x # comment\n",
      "a: x: y\n",
      "a:\n",
      "a: x\n  continued\n",
      "a: x \n",
      "a: x\r\n",
      "a: \tx\n",
      "a: é\n",
      "a: *ref\n",
      "a: &anchor x\n",
      "a: !tag x\n",
      "a: |-\n  x\n",
      "a: >\n  x\n",
      "a: |\n  x\n #\n",
      "a: |\n  x\n   \nb: y\n",
      "a: |\nb: y\n",
      "yes: x\n",
      "<<: x\n",
      "- a\n",
      "---\na: x\n",
      "a: x",
      "",
      "# only a comment\n",
      "a: [1, 2]\n",
      "a: x\na: z\n",
    ];
    for (const text of texts) {
      if (text === "a: x\na: z\n") assert.ok(same(text), "duplicate keys are kept, as the package keeps them");
      else assert.ok(!same(text), `read by the fast path, but should not be:\n${JSON.stringify(text)}`);
    }
  });

  it("agrees with the package on every YAML file of the repository", () => {
    let fast = 0;
    const files = repositoryYaml(process.cwd());
    assert.ok(files.length > 50, `found only ${files.length} YAML files under ${process.cwd()}`);
    for (const file of files) if (same(readFileSync(file, "utf8"))) fast++;
    assert.ok(fast > 10, `only ${fast} of ${files.length} files read by the fast path`);
  });

  it("agrees with the package on generated files", () => {
    const keys = ["summary", "execute", "a", "k-1", "x_y", "yes", "on", "No", "key.x"];
    const values = [
      "echo hello",
      "x",
      "y",
      "true",
      "TRUE",
      "Null",
      "1",
      "0x1F",
      "2001-12-14",
      "a:b",
      "a: b",
      "a #b",
      "a#b",
      "$X",
      "/bin/true",
      "x,y",
      "[a]",
      "{a}",
      "'a'",
      "-",
      "? x",
      "|",
      "|-",
      ">",
      "=x",
      "<x",
      "\\x",
      "(x)",
      ";",
      "^x",
      "_",
      "x:",
    ];
    const blocks = [
      "  a\n",
      "  a\n  b\n",
      "    a\n  b\n",
      "  a\n\n  b\n\n",
      "  a\n    b\n",
      "\n  a\n",
      "  a\n \n",
      " a\n",
      "   a\n    b\n   c\n",
    ];
    // A fixed pseudo-random sequence: the same files on every run.
    let seed = 12345;
    const pick = <T>(list: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return list[seed % list.length]!;
    };
    let fast = 0;
    for (let n = 0; n < 3000; n++) {
      let text = pick(["", "# c\n", "\n"]);
      const count = 1 + (n % 4);
      for (let k = 0; k < count; k++) {
        const value = pick(values);
        text += `${pick(keys)}:${pick([" ", "  "])}${value}\n`;
        if (value === "|") text += pick(blocks);
        text += pick(["", "", "\n", "# c\n", "  x\n"]);
      }
      if (same(text)) fast++;
    }
    assert.ok(fast > 300, `only ${fast} generated files read by the fast path`);
  });
});
