import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTroupeError } from "../../../src/util/errors.js";
import { evalTemplate, renderTemplate, templatePos, templateVariables } from "../../../src/scenario/template.js";
import type { Template } from "../../../src/scenario/types.js";

const tpl = (text: string, at?: Template["at"]): Template => ({ text, path: ["stages", 1, "jobs", 0, "run"], ...(at ? { at } : {}) });
const scope = {
  vars: { port: 8000, peers: ["a", "b"], conf: { k: 1 }, nil: null },
  host: { name: "node-2", addr: "10.213.0.7" },
  re: ["node-2", "2"],
  item: "it's",
};

describe("templates", () => {
  it("render vars, host, re and item, with troupe's filters and Jinja2's", () => {
    assert.equal(renderTemplate(tpl("{{ host.name }}@{{ host.addr }}:{{ vars.port }}"), scope), "node-2@10.213.0.7:8000");
    assert.equal(renderTemplate(tpl("{{ re[1] | next }} {{ re[1] | prev }}"), scope), "3 1");
    assert.equal(renderTemplate(tpl("echo {{ item | sh }}"), scope), "echo 'it'\\''s'");
    assert.equal(renderTemplate(tpl("{{ vars.peers | join(',') }} {{ 'x' | upper }}"), scope), "a,b X");
    assert.equal(renderTemplate(tpl("{{ '/a/b/c.txt' | basename }} {{ '/a/b/c.txt' | dirname }}"), scope), "c.txt /a/b");
  });

  it("print lists and maps as JSON, and nil as nothing", () => {
    assert.equal(renderTemplate(tpl("{{ vars.peers }} {{ vars.conf }} [{{ vars.nil }}]"), scope), '["a","b"] {"k":1} []');
  });

  it("let if and default test a variable that is not set", () => {
    assert.equal(renderTemplate(tpl("{% if vars.nope %}y{% else %}n{% endif %}{{ vars.nope | default(3) }}"), scope), "n3");
  });

  it("do Jinja2's arithmetic, comparisons, int and default, loops and conditions", () => {
    const s = { vars: { total: "40", n: 3, peers: ["a", "b"] }, res: { stdout: "2" } };
    assert.equal(renderTemplate(tpl("{{ vars.total | int + res.stdout | int }}"), s), "42");
    assert.equal(renderTemplate(tpl("{{ (vars.n * 2) > 5 }} {{ vars.n // 2 }} {{ vars.n % 2 == 1 }}"), s), "true 1 true");
    assert.equal(
      renderTemplate(tpl("{% for p in vars.peers %}{{ loop.index }}={{ p }}{% if not loop.last %},{% endif %}{% endfor %}"), s),
      "1=a,2=b",
    );
    assert.equal(renderTemplate(tpl("{{ vars.x is defined }} {{ vars.x | default('d') }} {{ vars.peers | length }}"), s), "false d 2");
    assert.equal(evalTemplate(tpl("{{ vars.total | int + 2 }}"), s), 42);
  });

  it("evaluate a single {{ expression }} to its value", () => {
    assert.deepEqual(evalTemplate(tpl("{{ vars.peers }}"), scope), ["a", "b"]);
    assert.equal(evalTemplate(tpl(" {{ vars.port }} "), scope), 8000);
    assert.equal(evalTemplate(tpl("port {{ vars.port }}"), scope), "port 8000");
  });

  it("name the stage, job, host and template of an undefined variable, at its file:line:col", () => {
    const at = { file: "s.yaml", line: 10, col: 12, style: "block" as const, indent: 11 };
    try {
      renderTemplate(tpl("echo ok\necho {{ vars.nope }}", at), scope, { stage: "fetch", job: "get", host: "node-3" });
      assert.fail("no error");
    } catch (e) {
      assert.ok(isTroupeError(e));
      assert.equal(e.code, "E_SCENARIO");
      assert.equal(
        e.message,
        's.yaml:12:19: stages[1].jobs[0].run: stage "fetch", job "get", host node-3, template "echo {{ vars.nope }}": undefined variable vars.nope',
      );
    }
  });

  it("name an undefined filter", () => {
    assert.throws(
      () => renderTemplate(tpl("{{ item | shout }}"), scope, { stage: "s", job: "j" }),
      /stage "s", job "j", template "\{\{ item \| shout \}\}": undefined filter shout/,
    );
  });

  it("map positions in plain, quoted and block scalars to the file", () => {
    assert.deepEqual(templatePos({ file: "f", line: 3, col: 10, style: "plain" }, 1, 5), { file: "f", line: 3, col: 14 });
    assert.deepEqual(templatePos({ file: "f", line: 3, col: 10, style: "quoted" }, 1, 5), { file: "f", line: 3, col: 15 });
    assert.deepEqual(templatePos({ file: "f", line: 3, col: 10, style: "block", indent: 5 }, 2, 3), { file: "f", line: 5, col: 7 });
    assert.equal(templatePos(undefined, 1, 1), undefined);
  });

  it("list the variables a template reads, not loop variables", () => {
    const refs = templateVariables(tpl("{% for p in vars.peers %}{{ p }}{% endfor %}{{ re[1] }}"));
    assert.deepEqual(
      refs.map((r) => r.segments),
      [
        ["vars", "peers"],
        ["re", 1],
      ],
    );
  });
});
