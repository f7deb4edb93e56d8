import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { labSshClient } from "../../../src/backends/lab/index.js";
import { TroupeError } from "../../../src/util/errors.js";

describe("TROUPE_LAB_SSH", () => {
  const saved = process.env["TROUPE_LAB_SSH"];
  afterEach(() => {
    if (saved === undefined) delete process.env["TROUPE_LAB_SSH"];
    else process.env["TROUPE_LAB_SSH"] = saved;
  });

  it("picks the in-process client unless told openssh", () => {
    delete process.env["TROUPE_LAB_SSH"];
    assert.equal(labSshClient(), "inprocess");
    for (const [value, client] of [
      ["", "inprocess"],
      ["inprocess", "inprocess"],
      ["openssh", "openssh"],
    ] as const) {
      process.env["TROUPE_LAB_SSH"] = value;
      assert.equal(labSshClient(), client);
    }
  });

  it("refuses anything else, naming the values it takes", () => {
    process.env["TROUPE_LAB_SSH"] = "OpenSSH";
    assert.throws(
      labSshClient,
      (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE" && /inprocess or openssh, not "OpenSSH"/.test(e.message),
    );
  });
});
