import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyBlobs } from "../../../src/transport/inprocess-ssh/host-keys.js";
import { TroupeError } from "../../../src/util/errors.js";

const BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAID/2x5g2pAQnwBmI8pQ22RQCOq79ArhfIcaP4CH+7Ei8";

describe("keyBlobs", () => {
  it("decodes key lines, with or without a host field and a comment", () => {
    const blobs = keyBlobs([`ssh-ed25519 ${BLOB}`, `10.213.0.2 ssh-ed25519 ${BLOB} root@lab-1`, `  ecdsa-sha2-nistp256 ${BLOB}  `]);
    assert.equal(blobs.length, 3);
    for (const b of blobs) assert.deepEqual(b, Buffer.from(BLOB, "base64"));
    // The blob names its own type: "ssh-ed25519" after a 4-byte length.
    assert.equal(blobs[0]!.subarray(4, 15).toString(), "ssh-ed25519");
  });

  it("refuses a line that holds no key, saying which", () => {
    for (const bad of ["", "10.213.0.2", "ssh-ed25519", "ssh-ed25519 not*base64"]) {
      assert.throws(
        () => keyBlobs([bad]),
        (e: unknown) => e instanceof TroupeError && e.code === "E_TRANSPORT" && e.message.includes(JSON.stringify(bad)),
      );
    }
  });
});
