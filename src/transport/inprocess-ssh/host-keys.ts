// Host keys as the in-process SSH client compares them: the raw key blob the
// server sends, decoded from `TYPE BASE64 [comment]` lines. Pure.

import { TroupeError } from "../../util/errors.js";

/** The key blobs of `lines` (`ssh-ed25519 AAAA...`, or known_hosts lines with a host field first). */
export function keyBlobs(lines: readonly string[]): Buffer[] {
  const blobs: Buffer[] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    // `TYPE BASE64 ...` or `HOSTS TYPE BASE64 ...`.
    const at = fields.findIndex((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
    const b64 = at >= 0 ? fields[at + 1] : undefined;
    if (b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      throw new TroupeError("E_TRANSPORT", `not a public key line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    blobs.push(Buffer.from(b64, "base64"));
  }
  return blobs;
}
