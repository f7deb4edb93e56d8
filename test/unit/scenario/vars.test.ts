import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyUpdates, castValue, snapshot, stepResult } from "../../../src/scenario/vars.js";
import type { Template, VarUpdatePlan } from "../../../src/scenario/types.js";

const t = (text: string): Template => ({ text, path: ["vars_updates"] });
const upd = (key: string, value: string | undefined, as: VarUpdatePlan["as"] = "string"): VarUpdatePlan => ({
  key: t(key),
  ...(value !== undefined ? { value: t(value) } : {}),
  as,
});

describe("vars and vars_updates", () => {
  it("give each job a copy that later updates do not touch", () => {
    const vars = { list: [1], n: 1 };
    const copy = snapshot(vars);
    applyUpdates(vars, [upd("n", "2", "int")], {}, {});
    vars.list.push(2);
    assert.deepEqual(copy, { list: [1], n: 1 });
  });

  it("read stdout, the exit status and JSON output", () => {
    const vars: Record<string, never> = {};
    const res = stepResult({ status: 0, stdout: '{"addr": "10.0.0.1", "ports": [1, 2]}\n', stderr: "warn\n" });
    const changes = applyUpdates(
      vars,
      [
        upd("out", "{{ res.stdout }}"),
        upd("status", "{{ res.status }}", "int"),
        upd("addr", "{{ res.json.addr }}"),
        upd("ports", "{{ res.json.ports }}", "json"),
        upd("err", "{{ res.stderr }}"),
      ],
      { res },
      {},
    );
    assert.deepEqual(changes, { out: '{"addr": "10.0.0.1", "ports": [1, 2]}', status: 0, addr: "10.0.0.1", ports: [1, 2], err: "warn" });
    assert.deepEqual(vars, changes);
  });

  it("apply updates in order, each seeing the ones before, with templated keys", () => {
    const vars: Record<string, number | string> = { count: 1 };
    applyUpdates(vars, [upd("count", "{{ vars.count + 1 }}", "int"), upd("seen_{{ item }}", "{{ vars.count }}", "int")], { item: "x" }, {});
    assert.deepEqual(vars, { count: 2, seen_x: 2 });
  });

  it("remove a variable given no value", () => {
    const vars = { a: 1, b: 2 };
    assert.deepEqual(applyUpdates(vars, [upd("a", undefined)], {}, {}), { a: null });
    assert.deepEqual(vars, { b: 2 });
  });

  it("say clearly when stdout is not JSON or a value is not a number", () => {
    const res = stepResult({ status: 0, stdout: "hello", stderr: "" });
    assert.throws(
      () => applyUpdates({}, [upd("x", "{{ res.json.a }}")], { res }, { stage: "s", job: "j" }),
      /res\.json: the job's stdout is not JSON: "hello"/,
    );
    assert.throws(
      () => applyUpdates({}, [upd("x", "{{ res.stdout }}", "int")], { res }, { stage: "s", job: "j" }),
      /vars_updates\.x \(as int\): "hello" is not a whole number/,
    );
  });

  it("cast values", () => {
    assert.equal(castValue(" 42 ", "int"), 42);
    assert.equal(castValue("True", "bool"), true);
    assert.deepEqual(castValue("[1]", "json"), [1]);
    assert.equal(castValue(5, "string"), "5");
    assert.throws(() => castValue("1.5", "int"), /not a whole number/);
    assert.throws(() => castValue("yes", "bool"), /not true or false/);
  });
});
