// Credentials: which source is used, the errors that name the file, and the
// JWT a service account signs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findCredentials, serviceAccountAssertion } from "../../../src/backends/google/credentials.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const KEY = {
  type: "service_account" as const,
  client_email: "sa@p.iam.gserviceaccount.com",
  private_key: pem,
  private_key_id: "k1",
  token_uri: "http://127.0.0.1:1/token",
  project_id: "p",
};

test("the assertion is an RS256 JWT for the token endpoint, signed with the key", () => {
  const jwt = serviceAccountAssertion(KEY, 1_000_000);
  const [h, c, s] = jwt.split(".") as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(h, "base64url").toString()), { alg: "RS256", typ: "JWT", kid: "k1" });
  assert.deepEqual(JSON.parse(Buffer.from(c, "base64url").toString()), {
    iss: "sa@p.iam.gserviceaccount.com",
    scope: "https://www.googleapis.com/auth/cloud-platform",
    aud: "http://127.0.0.1:1/token",
    iat: 1_000_000,
    exp: 1_003_600,
  });
  assert.ok(verify("RSA-SHA256", Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, "base64url")));
});

test("where credentials come from: key (JSON or a path), GOOGLE_APPLICATION_CREDENTIALS, gcloud's, the metadata server", () => {
  const dir = mkdtempSync(join(tmpdir(), "gce-cred-"));
  writeFileSync(join(dir, "k.json"), JSON.stringify(KEY));
  const none = { CLOUDSDK_CONFIG: join(dir, "no-gcloud"), GCE_METADATA_HOST: "127.0.0.1:9" };
  assert.match(findCredentials({ key: JSON.stringify(KEY), baseDir: dir, env: none }).describe, /^the backend's key \(sa@/);
  assert.equal(findCredentials({ key: JSON.stringify(KEY), baseDir: dir, env: none }).projectId, "p");
  assert.match(findCredentials({ key: "k.json", baseDir: dir, env: none }).describe, new RegExp(`^the key file ${join(dir, "k.json")} `));
  assert.match(
    findCredentials({ baseDir: dir, env: { ...none, GOOGLE_APPLICATION_CREDENTIALS: join(dir, "k.json") } }).describe,
    /^the key file /,
  );
  writeFileSync(
    join(dir, "application_default_credentials.json"),
    JSON.stringify({ type: "authorized_user", client_id: "c", client_secret: "s", refresh_token: "r" }),
  );
  assert.equal(
    findCredentials({ baseDir: dir, env: { ...none, CLOUDSDK_CONFIG: dir } }).describe,
    join(dir, "application_default_credentials.json"),
  );
  assert.equal(findCredentials({ baseDir: dir, env: none }).describe, "the metadata server at 127.0.0.1:9");
});

test("bad keys: one line naming the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "gce-cred-"));
  writeFileSync(join(dir, "user.json"), JSON.stringify({ type: "external_account" }));
  writeFileSync(
    join(dir, "broken.json"),
    JSON.stringify({ ...KEY, private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }),
  );
  const env = {};
  assert.throws(
    () => findCredentials({ key: "missing.json", baseDir: dir, env }),
    new RegExp(`cannot read the key file ${join(dir, "missing.json")} \\(from key\\): no such file`),
  );
  assert.throws(
    () => findCredentials({ key: "user.json", baseDir: dir, env }),
    /has type "external_account"; troupe reads service-account keys/,
  );
  assert.throws(
    () => findCredentials({ key: "broken.json", baseDir: dir, env }),
    /its private_key cannot sign .*; download a new key for sa@/,
  );
  assert.throws(
    () => findCredentials({ key: '{"type": "service_account"}', baseDir: dir, env }),
    /a service-account key without client_email and private_key/,
  );
});
