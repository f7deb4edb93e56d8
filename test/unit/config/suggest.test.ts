import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closestWord, unknownKeyHint } from "../../../src/config/suggest.js";

const KEYS = ["prepare", "restore", "execute", "prepare-each", "kill-timeout", "warn-timeout", "summary"];

describe("closestWord", () => {
  it("finds likely typos", () => {
    assert.equal(closestWord("preapre", KEYS), "prepare");
    assert.equal(closestWord("prepare_each", KEYS), "prepare-each");
    assert.equal(closestWord("kil-timeout", KEYS), "kill-timeout");
    assert.equal(closestWord("Summary", KEYS), "summary");
  });

  it("says nothing when nothing is close", () => {
    assert.equal(closestWord("flags", KEYS), undefined);
    assert.equal(closestWord("x", []), undefined);
  });

  it("lists the allowed keys when it cannot guess", () => {
    assert.equal(unknownKeyHint("preapre", KEYS), "did you mean 'prepare'?");
    assert.equal(unknownKeyHint("zzz", ["b", "a"]), "allowed here: a, b");
  });
});
