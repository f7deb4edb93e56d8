import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandHostlist, foldHostlist, isHostlist } from "../../../src/util/hostlist.js";
import { TroupeError } from "../../../src/util/errors.js";

function fails(expr: string, pattern: RegExp): void {
  assert.throws(
    () => expandHostlist(expr),
    (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE" && pattern.test(e.message),
  );
}

describe("expandHostlist", () => {
  it("keeps a plain name", () => {
    assert.deepEqual(expandHostlist("web.example.com"), ["web.example.com"]);
    assert.deepEqual(expandHostlist("  root@10.0.0.1:2222 "), ["root@10.0.0.1:2222"]);
  });

  it("expands a zero-padded range", () => {
    const names = expandHostlist("node[01-64].example.com");
    assert.equal(names.length, 64);
    assert.equal(names[0], "node01.example.com");
    assert.equal(names[8], "node09.example.com");
    assert.equal(names[63], "node64.example.com");
  });

  it("pads to the lower bound's width, and not at all without a leading zero", () => {
    assert.deepEqual(expandHostlist("n[8-11]"), ["n8", "n9", "n10", "n11"]);
    assert.deepEqual(expandHostlist("n[098-101]"), ["n098", "n099", "n100", "n101"]);
    assert.deepEqual(expandHostlist("n[007]"), ["n007"]);
  });

  it("expands lists and ranges inside one bracket", () => {
    assert.deepEqual(expandHostlist("n[1-3,7]"), ["n1", "n2", "n3", "n7"]);
    assert.deepEqual(expandHostlist("n[7,1-2]"), ["n7", "n1", "n2"]);
  });

  it("takes the product of several brackets, the last one fastest", () => {
    assert.deepEqual(expandHostlist("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
    assert.deepEqual(expandHostlist("rack[1,3]-node[01-02].lan"), [
      "rack1-node01.lan",
      "rack1-node02.lan",
      "rack3-node01.lan",
      "rack3-node02.lan",
    ]);
  });

  it("separates items by commas outside brackets and drops repeats", () => {
    assert.deepEqual(expandHostlist("web1,db[1-2],web1"), ["web1", "db1", "db2"]);
    assert.deepEqual(expandHostlist("admin@n[1-2]:2222"), ["admin@n1:2222", "admin@n2:2222"]);
  });

  it("honours steps and differences", () => {
    assert.deepEqual(expandHostlist("n[1-10/3]"), ["n1", "n4", "n7", "n10"]);
    assert.deepEqual(expandHostlist("n[1-5]!n3"), ["n1", "n2", "n4", "n5"]);
    assert.deepEqual(expandHostlist("n[1-5]!n[1-2],n5"), ["n3", "n4"]);
  });

  it("rejects mistakes with a message naming them", () => {
    fails("", /empty/);
    fails("n[1-3", /never closed/);
    fails("n1-3]", /without '\['/);
    fails("n[[1-2]]", /cannot nest/);
    fails("n[]", /'\[\]' is empty/);
    fails("n[5-1]", /goes backwards/);
    fails("n[a-c]", /'a-c' is not a number or a range/);
    fails("n[1:3]", /not a number or a range/);
    fails("n[1-4/0]", /step/);
    fails("a,,b", /empty item/);
    fails("a b", /white space/);
    fails("n[1-1000000]", /more than 100000 hosts/);
    fails("a[1-400]b[1-400]", /more than 100000 hosts/);
  });

  it("tells hostlists from plain names", () => {
    assert.equal(isHostlist("n[1-2]"), true);
    assert.equal(isHostlist("a,b"), true);
    assert.equal(isHostlist("user@host:22"), false);
  });
});

describe("foldHostlist", () => {
  it("folds consecutive numbers back into ranges", () => {
    assert.equal(foldHostlist(["n1", "n2", "n3", "n7", "web", "db01", "db02"]), "n[1-3,7],web,db[01-02]");
    assert.equal(foldHostlist(["123", "124"]), "[123-124]");
    assert.equal(foldHostlist(["a1.lan"]), "a1.lan");
  });

  it("round-trips with expandHostlist", () => {
    const names = expandHostlist("node[01-10,12].example.com,x[1-3]");
    assert.deepEqual(expandHostlist(foldHostlist(names)), names);
  });
});
