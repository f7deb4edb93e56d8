import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyRenames, parseRename, parseRenames, RenameSyntaxError } from "../../../src/transfer/rename.js";

const name = (expr: string, input: string): string => applyRenames(parseRename(expr), input, "name");

describe("rename expressions (GNU tar --transform)", () => {
  it("replaces the first match by default", () => {
    assert.equal(name("s,t,T,", "dir/f.txt"), "dir/f.Txt");
  });

  it("g replaces every match", () => {
    assert.equal(name("s,t,T,g", "dir/f.txt"), "dir/f.TxT");
    assert.equal(name("s|/|_|g", "a/b/c"), "a_b_c");
  });

  it("a number replaces the Nth match, with g the Nth and later", () => {
    assert.equal(name("s,t,T,2", "dir/f.txt"), "dir/f.txT");
    assert.equal(name("s,t,T,2g", "a/t.t.t"), "a/t.T.T");
    assert.equal(name("s,t,T,5", "a/t.t.t"), "a/t.t.t");
  });

  it("i ignores case", () => {
    assert.equal(name("s,txt,md,i", "docs/README.TXT"), "docs/README.md");
    assert.equal(name("s,txt,md,", "docs/README.TXT"), "docs/README.TXT");
  });

  it("reads basic regular expressions by default and extended ones with x", () => {
    assert.equal(name("s,\\(d\\)\\(i\\),\\2\\1,", "dir"), "idr");
    assert.equal(name("s,(d)(i),\\2\\1,x", "dir"), "idr");
    // In BRE, ( + { are literal; in ERE they are operators.
    assert.equal(name("s,a+,X,", "a+b"), "Xb");
    assert.equal(name("s,a+,X,x", "caaat"), "cXt");
    assert.equal(name("s,a\\+,X,", "caaat"), "cXt");
    assert.equal(name("s,a\\{2\\},X,", "caaat"), "cXat");
    assert.equal(name("s,a{2},X,x", "caaat"), "cXat");
    assert.equal(name("s,o\\|b,Q,g", "foobar"), "fQQQar");
  });

  it("anchors: ^ and $ match only at the ends of the whole name", () => {
    assert.equal(name("s,^dir,D,", "dir/sub/dir"), "D/sub/dir");
    assert.equal(name("s,dir$,E,", "dir/sub/dir"), "dir/sub/E");
    assert.equal(name("s,^,pre/,", "a/b"), "pre/a/b");
    assert.equal(name("s,^src/,,", "lib/src/x"), "lib/src/x");
  });

  it("a literal * where POSIX says so", () => {
    assert.equal(name("s,*,S,", "a*b"), "aSb");
    assert.equal(name("s,^*,S,", "*b"), "Sb");
  });

  it("bracket expressions, classes and GNU escapes", () => {
    assert.equal(name("s,[[:upper:]],u,g", "a/B/C"), "a/u/u");
    assert.equal(name("s,[]x],Q,g", "a]x"), "aQQ");
    assert.equal(name("s,[^/]*$,L,", "a/b/c"), "a/b/L");
    assert.equal(name("s,\\<w,W,g", "wow we"), "Wow We");
    assert.equal(name("s,\\.,!,", "a.b"), "a!b");
  });

  it("replacement: &, groups, escapes and case conversion", () => {
    assert.equal(name("s,f,<&>,", "dir/f.txt"), "dir/<f>.txt");
    assert.equal(name("s,f,\\&,", "f"), "&");
    assert.equal(name("s,\\(.*\\)/\\(.*\\),\\2/\\1,", "a/b"), "b/a");
    assert.equal(name("s,f,\\U&x\\E-,", "dir/f.txt"), "dir/FX-.txt");
    assert.equal(name("s,.*,\\u&,", "hello"), "Hello");
    assert.equal(name("s,\\w*,\\L\\u&,", "HELLO world"), "Hello world");
  });

  it("follows sed on empty matches", () => {
    assert.equal(name("s,b*,X,g", "abc"), "XaXcX");
    assert.equal(name("s,a*,-,g", "xy"), "-x-y-");
  });

  it("any delimiter; an escaped delimiter is literal", () => {
    assert.equal(name("s/\\//::/g", "a/b"), "a::b");
    assert.equal(name("s|a\\|b|X|", "a|b"), "X");
    assert.equal(name("s.a\\.b.X.", "a.b axb"), "X axb");
  });

  it("several expressions run in order, in one entry or many", () => {
    assert.equal(name("s,f,F,;s,F,G,", "dir/f.txt"), "dir/G.txt");
    assert.equal(applyRenames(parseRenames(["s,f,F,", "s,F,H,"]), "dir/f.txt", "name"), "dir/H.txt");
  });

  it("r/R, s/S and h/H choose member names, symlink and hard link targets", () => {
    const plain = parseRename("s,dir,D,");
    assert.equal(applyRenames(plain, "dir/x", "name"), "D/x");
    assert.equal(applyRenames(plain, "dir/x", "symlink"), "D/x");
    assert.equal(applyRenames(plain, "dir/x", "hardlink"), "D/x");

    const noSymlinks = parseRename("s,dir,D,S");
    assert.equal(applyRenames(noSymlinks, "dir/x", "name"), "D/x");
    assert.equal(applyRenames(noSymlinks, "dir/x", "symlink"), "dir/x");
    assert.equal(applyRenames(noSymlinks, "dir/x", "hardlink"), "D/x");

    const noHard = parseRename("s,dir,D,H");
    assert.equal(applyRenames(noHard, "dir/x", "hardlink"), "dir/x");
    assert.equal(applyRenames(noHard, "dir/x", "symlink"), "D/x");

    const targetsOnly = parseRename("s,dir,D,R");
    assert.equal(applyRenames(targetsOnly, "dir/x", "name"), "dir/x");
    assert.equal(applyRenames(targetsOnly, "dir/x", "symlink"), "D/x");

    const both = parseRename("s,dir,D,gSH");
    assert.equal(both[0]!.global, true);
    assert.equal(applyRenames(both, "dir/dir", "name"), "D/D");
    assert.equal(applyRenames(both, "dir/dir", "symlink"), "dir/dir");
    assert.equal(applyRenames(both, "dir/dir", "hardlink"), "dir/dir");
  });

  it("the README's delta example: prefix names, not symlink targets", () => {
    const rules = parseRename("s,^,v1.23/,S");
    assert.equal(applyRenames(rules, "link", "name"), "v1.23/link");
    assert.equal(applyRenames(rules, "target", "symlink"), "target");
  });

  it("rejects malformed expressions", () => {
    for (const bad of ["", "y,a,b,", "s", "s,a,b", "s,a,", "s,a,b,q", "s,a,\\1,", "s,\\(a,b,", "s,a,b,0", "s,[a,b,"]) {
      assert.throws(() => parseRename(bad), RenameSyntaxError, bad);
    }
  });
});
