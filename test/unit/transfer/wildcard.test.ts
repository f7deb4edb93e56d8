import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileExcludes } from "../../../src/transfer/wildcard.js";

describe("exclude patterns (tar-style wildcards)", () => {
  const check = (patterns: string[], name: string): boolean => compileExcludes(patterns)(name);

  it("match any trailing part of the name (unanchored)", () => {
    assert.equal(check(["b.o"], "src/sub/b.o"), true);
    assert.equal(check(["sub/b.o"], "src/sub/b.o"), true);
    assert.equal(check(["ub/b.o"], "src/sub/b.o"), false);
    assert.equal(check([".git"], ".git"), true);
    assert.equal(check([".git"], "vendor/x/.git"), true);
    assert.equal(check([".git"], ".gitignore"), false);
  });

  it("match everything below a matching directory", () => {
    assert.equal(check(["src/sub"], "src/sub/deep/file"), true);
    assert.equal(check(["sub"], "src/sub/deep/file"), true);
    assert.equal(check(["su"], "src/sub/deep/file"), false);
  });

  it("* and ? cross / and match leading dots", () => {
    assert.equal(check(["src*o"], "src/sub/b.o"), true);
    assert.equal(check(["src/*.o"], "src/sub/b.o"), true);
    assert.equal(check(["*.o"], "src/.hidden.o"), true);
    assert.equal(check(["a?b"], "a/b"), true);
    assert.equal(check(["*/a.o"], "src/sub/b.o"), false);
  });

  it("bracket expressions and escapes", () => {
    assert.equal(check(["[ab].c"], "x/a.c"), true);
    assert.equal(check(["[ab].c"], "x/c.c"), false);
    assert.equal(check(["[!ab].c"], "x/c.c"), true);
    assert.equal(check(["[[:digit:]]*.log"], "logs/1.log"), true);
    assert.equal(check(["\\*lit"], "a/*lit"), true);
    assert.equal(check(["\\*lit"], "a/xlit"), false);
    assert.equal(check(["[oops"], "[oops"), true);
  });

  it("are case-sensitive and do not see ./ or trailing slashes", () => {
    assert.equal(check(["SUB"], "src/sub"), false);
    assert.equal(check(["sub/"], "src/sub"), false);
    assert.equal(check(["/src"], "src"), false);
  });

  it("with no patterns, nothing is excluded", () => {
    assert.equal(check([], "anything"), false);
  });
});
