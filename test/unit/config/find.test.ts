import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { findProjectFile, flavourOf } from "../../../src/config/index.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { fixture } from "./helpers.js";

describe("findProjectFile", () => {
  it("prefers troupe.yaml over spread.yaml in the same directory", async () => {
    assert.equal(await findProjectFile(fixture("find", "both")), fixture("find", "both", "troupe.yaml"));
  });

  it("prefers spread.yaml over .spread.yaml", async () => {
    assert.equal(await findProjectFile(fixture("find", "spread-both")), fixture("find", "spread-both", "spread.yaml"));
  });

  it("finds .spread.yaml, searching upwards from a subdirectory", async () => {
    assert.equal(await findProjectFile(fixture("find", "hidden", "deep", "er")), fixture("find", "hidden", ".spread.yaml"));
  });

  it("stops at the nearest directory that has one", async () => {
    assert.equal(await findProjectFile(fixture("find", "both", "inner")), fixture("find", "both", "inner", "spread.yaml"));
  });

  it("says E_NOT_FOUND, with what to do, when there is none", async () => {
    const empty = await mkdtemp(join(tmpdir(), "troupe-find-"));
    try {
      await assert.rejects(findProjectFile(empty), (e: unknown) => {
        assert.ok(isTroupeError(e));
        assert.equal(e.code, "E_NOT_FOUND");
        assert.match(e.message, /no troupe\.yaml, spread\.yaml or \.spread\.yaml in .*troupe-find-.* or any directory above it/);
        assert.match(e.message, /--project DIR/);
        return true;
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe("flavourOf", () => {
  it("is spread for spread.yaml and .spread.yaml, troupe otherwise", () => {
    assert.equal(flavourOf("/p/spread.yaml"), "spread");
    assert.equal(flavourOf("/p/.spread.yaml"), "spread");
    assert.equal(flavourOf("/p/troupe.yaml"), "troupe");
    assert.equal(flavourOf("/p/custom.yaml"), "troupe");
  });
});
