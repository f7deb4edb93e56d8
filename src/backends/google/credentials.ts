// Google credentials without Google's SDK, found the way Spread (through
// Go's oauth2/google) finds them:
//
// 1. the backend's `key`: a service-account key as JSON text (it starts with
//    `{`, e.g. `key: $(HOST: echo "$GOOGLE_KEY")`) or the path of one;
// 2. GOOGLE_APPLICATION_CREDENTIALS: the path of a key file;
// 3. gcloud's application default credentials
//    (~/.config/gcloud/application_default_credentials.json, or under
//    CLOUDSDK_CONFIG), made by `gcloud auth application-default login`;
// 4. the metadata server of the GCE machine troupe runs on
//    (metadata.google.internal, or GCE_METADATA_HOST as Google's own
//    libraries read it).
//
// A service-account key becomes an access token through the JWT bearer grant
// (RFC 7523), signed RS256 with node:crypto and sent to the key's token_uri;
// user credentials through the refresh-token grant. Tokens are kept until a
// minute before they expire.

import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { TroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";

export const COMPUTE_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
const METADATA_HOST = "metadata.google.internal";
const METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token";

/** Where the credentials came from, for messages: `key file /path/key.json`, `the metadata server at ...`. */
export interface TokenSource {
  readonly describe: string;
  /** The project the credentials belong to, when they say (a key file's project_id). */
  readonly projectId?: string;
  /** A bearer token valid for at least a minute. */
  token(signal?: AbortSignal): Promise<string>;
}

interface ServiceAccountKey {
  readonly type: "service_account";
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string;
  readonly token_uri?: string;
  readonly project_id?: string;
}

interface AuthorizedUser {
  readonly type: "authorized_user";
  readonly client_id: string;
  readonly client_secret: string;
  readonly refresh_token: string;
  readonly token_uri?: string;
  readonly quota_project_id?: string;
}

export interface CredentialOptions {
  /** The backend's `key`, evaluated (JSON text or a path); empty or absent for the default chain. */
  readonly key?: string;
  /** Relative key paths are taken from here (the project directory). */
  readonly baseDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly home?: string;
}

function bad(message: string): TroupeError {
  return new TroupeError("E_BACKEND", `google: ${message}`);
}

/** The credentials to use, or a one-line error saying what to do. Reads files, asks no server. */
export function findCredentials(o: CredentialOptions): TokenSource {
  const env = o.env ?? process.env;
  const key = o.key?.trim() ?? "";
  if (key.startsWith("{")) return fromJson(key, "the backend's key");
  if (key !== "") return fromFile(resolve(o.baseDir, key), "key");
  const gac = env["GOOGLE_APPLICATION_CREDENTIALS"];
  if (gac) return fromFile(resolve(gac), "GOOGLE_APPLICATION_CREDENTIALS");
  const adc = join(env["CLOUDSDK_CONFIG"] ?? join(o.home ?? homedir(), ".config", "gcloud"), "application_default_credentials.json");
  let text: string | undefined;
  try {
    text = readFileSync(adc, "utf8");
  } catch {
    text = undefined;
  }
  if (text !== undefined) return fromJson(text, adc);
  return metadataServer(env);
}

function fromFile(path: string, via: string): TokenSource {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : errorText(err);
    throw bad(`cannot read the key file ${path} (from ${via}): ${why}; give key: the path of a service-account key (JSON)`);
  }
  return fromJson(text, `the key file ${path}`);
}

function fromJson(text: string, where: string): TokenSource {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw bad(`${where} is not JSON (${errorText(err)}); a service-account key is the JSON file the console's "Create key" gives`);
  }
  const d = (data ?? {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = d[k];
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  if (d["type"] === "service_account") {
    const missing = ["client_email", "private_key"].filter((k) => !str(k));
    if (missing.length) throw bad(`${where} is a service-account key without ${missing.join(" and ")}`);
    return serviceAccount(d as unknown as ServiceAccountKey, where);
  }
  if (d["type"] === "authorized_user") {
    const missing = ["client_id", "client_secret", "refresh_token"].filter((k) => !str(k));
    if (missing.length) throw bad(`${where} holds user credentials without ${missing.join(", ")}`);
    return authorizedUser(d as unknown as AuthorizedUser, where);
  }
  throw bad(
    `${where} has type ${JSON.stringify(d["type"] ?? null)}; troupe reads service-account keys ("service_account") ` +
      `and gcloud's application default credentials ("authorized_user")`,
  );
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** The signed JWT a service account exchanges for a token (RFC 7523, Google's claims). */
export function serviceAccountAssertion(key: ServiceAccountKey, nowSeconds: number, scope = COMPUTE_SCOPE): string {
  const header = { alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = {
    iss: key.client_email,
    scope,
    aud: key.token_uri ?? DEFAULT_TOKEN_URI,
    iat: nowSeconds,
    exp: nowSeconds + 3600,
  };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signer = createSign("RSA-SHA256");
  signer.update(signed);
  return `${signed}.${base64url(signer.sign(key.private_key))}`;
}

/** A token that is fetched again a minute before it expires; one fetch at a time. */
function cached(
  describe: string,
  fetchToken: (signal?: AbortSignal) => Promise<{ token: string; expiresIn: number }>,
  projectId?: string,
): TokenSource {
  let current: { token: string; until: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    describe,
    ...(projectId ? { projectId } : {}),
    token(signal) {
      if (current && Date.now() < current.until) return Promise.resolve(current.token);
      pending ??= fetchToken(signal)
        .then(({ token, expiresIn }) => {
          current = { token, until: Date.now() + Math.max(0, expiresIn - 60) * 1000 };
          return token;
        })
        .finally(() => (pending = undefined));
      return pending;
    },
  };
}

function serviceAccount(key: ServiceAccountKey, where: string): TokenSource {
  try {
    // Fail now, with the file's name, rather than at the first request.
    createSign("RSA-SHA256").update("").sign(key.private_key);
  } catch (err) {
    throw bad(`${where}: its private_key cannot sign (${errorText(err)}); download a new key for ${key.client_email}`);
  }
  const tokenUri = key.token_uri ?? DEFAULT_TOKEN_URI;
  return cached(
    `${where} (${key.client_email})`,
    (signal) =>
      tokenRequest(
        tokenUri,
        {
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          assertion: serviceAccountAssertion(key, Math.floor(Date.now() / 1000)),
        },
        `${where} (${key.client_email})`,
        signal,
      ),
    key.project_id,
  );
}

function authorizedUser(user: AuthorizedUser, where: string): TokenSource {
  return cached(
    where,
    (signal) =>
      tokenRequest(
        user.token_uri ?? DEFAULT_TOKEN_URI,
        { grant_type: "refresh_token", client_id: user.client_id, client_secret: user.client_secret, refresh_token: user.refresh_token },
        where,
        signal,
      ),
    user.quota_project_id,
  );
}

async function tokenRequest(
  uri: string,
  form: Record<string, string>,
  who: string,
  signal?: AbortSignal,
): Promise<{ token: string; expiresIn: number }> {
  let res: Response;
  try {
    res = await fetch(uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    throw bad(`cannot reach the token endpoint ${uri} for ${who}: ${causeText(err)}`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof body["access_token"] !== "string") {
    const why = [body["error"], body["error_description"]].filter((x) => typeof x === "string" && x !== "").join(": ");
    throw bad(
      `${uri} refused the credentials of ${who} (HTTP ${res.status}${why ? `, ${why}` : ""}); check that the key is not deleted or disabled`,
    );
  }
  return { token: body["access_token"], expiresIn: Number(body["expires_in"] ?? 3600) };
}

/** The machine's metadata server (GCE_METADATA_HOST as host[:port], as Google's libraries read it). */
function metadataServer(env: Readonly<Record<string, string | undefined>>): TokenSource {
  const host = env["GCE_METADATA_HOST"] || METADATA_HOST;
  const url = `http://${host}${METADATA_TOKEN_PATH}`;
  const describe = `the metadata server at ${host}`;
  return cached(describe, async (signal) => {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { "Metadata-Flavor": "Google" },
        // An unroutable metadata address should not hold a run for long.
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(5000)]) : AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw bad(
        `no credentials: the backend has no key, GOOGLE_APPLICATION_CREDENTIALS is not set, there are no gcloud application ` +
          `default credentials, and ${describe} does not answer (${causeText(err)}); give key: the path of a service-account key file`,
      );
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof body["access_token"] !== "string") {
      throw bad(`${describe} gave no token (HTTP ${res.status}); does this machine have a service account with the cloud-platform scope?`);
    }
    return { token: body["access_token"], expiresIn: Number(body["expires_in"] ?? 3600) };
  });
}

/** fetch()'s failures hide the reason in `cause` (ECONNREFUSED, ENOTFOUND, ...). */
export function causeText(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return "timed out";
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? errorText(err);
}
