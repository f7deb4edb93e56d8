// A private key parsed once per process and lent to every connection as an
// in-process agent. Given the key itself, the ssh2 client decodes it from
// PEM again for every signature, which costs more than the signature: about
// 0.6 ms per connection, a tenth of a 100-host fan-out's CPU on our side.
// Only Ed25519 keys (what the lab makes) are lent this way; other keys are
// handed to the client as they are.

import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import ssh2 from "ssh2";
import type { ParsedKey, SignCallback, SigningRequestOptions } from "ssh2";
import { TroupeError } from "../../util/errors.js";

const { BaseAgent, utils } = ssh2;

class KeyAgent extends BaseAgent<ParsedKey> {
  constructor(
    private readonly key: ParsedKey,
    private readonly secret: KeyObject,
  ) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }

  sign(_pub: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    const done = typeof options === "function" ? options : cb;
    try {
      done?.(undefined, sign(null, data, this.secret));
    } catch (err) {
      done?.(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

export type Credentials = { readonly agent: InstanceType<typeof BaseAgent> } | { readonly privateKey: string | Buffer };

const cache = new Map<string, Credentials>();

/** How to authenticate with `privateKey` (the text of an OpenSSH key file). */
export function credentials(privateKey: string | Buffer): Credentials {
  const text = privateKey.toString();
  const known = cache.get(text);
  if (known) return known;
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw new TroupeError("E_TRANSPORT", `cannot read the private key: ${parsed.message}`);
  const made: Credentials =
    parsed.type === "ssh-ed25519" ? { agent: new KeyAgent(parsed, createPrivateKey(parsed.getPrivatePEM())) } : { privateKey };
  cache.set(text, made);
  return made;
}
