// Google's error bodies, read by status and reason into one line and a kind.

import { test } from "node:test";
import assert from "node:assert/strict";
import { apiError, polish } from "../../../src/backends/google/api.js";
import { classifyGoogle } from "../../../src/backends/google/driver.js";

const body = (code: number, reason: string, message: string) => ({
  error: { code, message, errors: [{ reason, message, domain: "global" }] },
});

test("Google's message, polished as Spread does, with the first error's reason", () => {
  const e = apiError(403, body(403, "forbidden", "Required 'compute.instances.create' permission for 'projects/p/zones/z/instances/x'."));
  assert.equal(e.reason, "forbidden");
  // Spread's rule: a final period goes only after a letter.
  assert.equal(e.message, "required 'compute.instances.create' permission for 'projects/p/zones/z/instances/x'.");
  assert.equal(polish("The resource 'projects/p/zones/z' was not found."), "the resource 'projects/p/zones/z' was not found");
  assert.equal(
    polish("Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1."),
    "quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1.",
  );
  assert.equal(apiError(502, "<html>").reason, "HTTP 502");
});

test("kinds for the fleet: by status and reason", () => {
  const kind = (status: number, reason: string): string => classifyGoogle(apiError(status, body(status, reason, "x"))).kind;
  assert.equal(kind(403, "quotaExceeded"), "quota");
  assert.equal(kind(403, "QUOTA_EXCEEDED"), "quota");
  assert.equal(kind(503, "ZONE_RESOURCE_POOL_EXHAUSTED"), "capacity");
  assert.equal(kind(403, "rateLimitExceeded"), "throttle");
  assert.equal(kind(429, "rateLimitExceeded"), "throttle");
  assert.equal(kind(403, "forbidden"), "permission");
  assert.equal(kind(401, "required"), "credentials");
  assert.equal(kind(404, "notFound"), "not-found");
  assert.equal(kind(500, "backendError"), "transient");
});
