// Ed25519 keys in OpenSSH's own formats, made in-process: a lab of 200 hosts
// needs 200 host keys, and spawning ssh-keygen for each is the slow way.
// Formats: PROTOCOL.key (openssh-key-v1, unencrypted) and RFC 8709 blobs.

import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface SshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, for a file of mode 600. */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA... comment` */
  readonly publicKey: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function sshString(data: Buffer | string): Buffer {
  const b = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([u32(b.length), b]);
}

/** A new Ed25519 key pair. */
export function generateEd25519(comment: string): SshKeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (!jwk.d || !jwk.x) throw new Error("node did not export the Ed25519 key");
  const seed = Buffer.from(jwk.d, "base64url");
  const pub = Buffer.from(jwk.x, "base64url");
  return fromRaw(seed, pub, comment);
}

/** Build both files from the 32-byte seed and 32-byte public key. */
export function fromRaw(seed: Buffer, pub: Buffer, comment: string): SshKeyPair {
  const type = "ssh-ed25519";
  const pubBlob = Buffer.concat([sshString(type), sshString(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, sshString(type), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const whole = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    u32(1),
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = whole.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `${type} ${pubBlob.toString("base64")}${comment ? ` ${comment}` : ""}`,
  };
}

/** `ssh-ed25519 AAAA...` without the comment (what known_hosts and authorized_keys need). */
export function keyWithoutComment(publicKey: string): string {
  return publicKey.split(/\s+/).slice(0, 2).join(" ");
}

/** The public key line inside an unencrypted OpenSSH private key file (as made above or by ssh-keygen). */
export function publicKeyOf(privateKeyText: string): string {
  const body = privateKeyText.replace(/-----(BEGIN|END) OPENSSH PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  const buf = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (buf.subarray(0, magic.length).toString("latin1") !== magic) throw new Error("not an OpenSSH private key");
  let at = magic.length;
  const str = (): Buffer => {
    const n = buf.readUInt32BE(at);
    const s = buf.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  str(); // cipher
  str(); // kdf
  str(); // kdf options
  at += 4; // number of keys
  const blob = str();
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1");
  return `${type} ${blob.toString("base64")}`;
}
