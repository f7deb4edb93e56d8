import { test } from "node:test";
import assert from "node:assert/strict";
import { annotationCommand, escapeData, escapeProperty, markdownCell, markdownCode } from "../../../src/report/github.js";

test("annotation data escapes %, CR and LF; properties also : and ,", () => {
  assert.equal(escapeData("100% done\r\nnext"), "100%25 done%0D%0Anext");
  assert.equal(escapeProperty("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
});

test("an ::error command points at the file, line and column, title and message escaped", () => {
  const cmd = annotationCommand({
    kind: "error",
    title: "troupe: local:localhost:checks/greet failed",
    message: "execute failed: exit status 1\n50% of it, a: b",
    pos: { file: "checks/greet,x/task.yaml", line: 3, col: 1 },
  });
  assert.equal(
    cmd,
    "::error file=checks/greet%2Cx/task.yaml,line=3,col=1,title=troupe%3A local%3Alocalhost%3Achecks/greet failed::" +
      "execute failed: exit status 1%0A50%25 of it, a: b",
  );
  assert.equal(annotationCommand({ kind: "warning", title: "t", message: "m" }), "::warning title=t::m");
});

test("markdown cells: one line, | escaped; code spans that no backtick closes early", () => {
  assert.equal(markdownCell("a|b\nc <d>"), "a\\|b c &lt;d&gt;");
  assert.equal(markdownCode("local:x:a|b"), "`local:x:a\\|b`");
  assert.equal(markdownCode("has `tick`"), "`` has `tick` ``");
});
