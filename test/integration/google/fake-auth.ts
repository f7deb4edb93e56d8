// The OAuth side of the fake Google: a service account of its own (an RSA
// key made here, written as the JSON key file the console gives), the token
// endpoint that takes the JWT bearer grant and checks the assertion's
// signature with that account's public key, its audience, issuer, scope and
// times, and the metadata server's token endpoint. Tokens it hands out are
// the only ones the fake Compute API accepts.

import { generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";

export interface ServiceAccount {
  readonly email: string;
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

export function newServiceAccount(project: string, name = "troupe-test"): ServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    email: `${name}@${project}.iam.gserviceaccount.com`,
    keyId: randomBytes(20).toString("hex"),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey,
  };
}

/** The key file Google's console gives for `account`, with token_uri pointing at the fake. */
export function keyFileJson(account: ServiceAccount, project: string, tokenUri: string): string {
  return JSON.stringify(
    {
      type: "service_account",
      project_id: project,
      private_key_id: account.keyId,
      private_key: account.privateKeyPem,
      client_email: account.email,
      client_id: "1234567890",
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: tokenUri,
    },
    null,
    2,
  );
}

export type GrantResult =
  { readonly ok: true; readonly token: string } | { readonly ok: false; readonly error: string; readonly description: string };

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** Check a JWT bearer assertion as Google's token endpoint does. */
export function checkAssertion(assertion: string, accounts: readonly ServiceAccount[], audience: string, nowSeconds: number): GrantResult {
  const parts = assertion.split(".");
  if (parts.length !== 3)
    return {
      ok: false,
      error: "invalid_grant",
      description: "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.",
    };
  const [h, c, s] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return { ok: false, error: "invalid_grant", description: "Invalid JWT." };
  }
  if (header["alg"] !== "RS256") return { ok: false, error: "invalid_grant", description: "Invalid JWT: unsupported alg." };
  const account = accounts.find((a) => a.email === claims["iss"]);
  if (!account) return { ok: false, error: "invalid_grant", description: "Invalid grant: account not found" };
  if (header["kid"] !== undefined && header["kid"] !== account.keyId)
    return { ok: false, error: "invalid_grant", description: "Invalid JWT Signature." };
  if (!verify("RSA-SHA256", Buffer.from(`${h}.${c}`), account.publicKey, Buffer.from(s, "base64url"))) {
    return { ok: false, error: "invalid_grant", description: "Invalid JWT Signature." };
  }
  if (claims["aud"] !== audience) return { ok: false, error: "invalid_grant", description: "Invalid JWT: aud is not the token endpoint." };
  const iat = Number(claims["iat"]);
  const exp = Number(claims["exp"]);
  if (!(iat <= nowSeconds + 60 && exp > nowSeconds && exp - iat <= 3600)) {
    return {
      ok: false,
      error: "invalid_grant",
      description: "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
    };
  }
  if (!(typeof claims["scope"] === "string" ? claims["scope"] : "").split(" ").includes(SCOPE))
    return { ok: false, error: "invalid_scope", description: "Invalid OAuth scope." };
  return { ok: true, token: `ya29.fake-${randomBytes(12).toString("hex")}` };
}
