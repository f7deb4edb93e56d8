// Spread's keys of a google backend, and their errors at their positions.

import { test } from "node:test";
import assert from "node:assert/strict";
import { googleLifetime, googleLocation, googleSystemConfig } from "../../../src/backends/google/settings.js";
import { cloudSettings } from "../../../src/backends/cloud/settings.js";
import type { Backend, System } from "../../../src/model/project.js";
import type { TroupeError } from "../../../src/util/errors.js";

const POS = { file: "spread.yaml", line: 3, col: 5 };
const LOC = { file: "spread.yaml", line: 7, col: 15 };

function system(extra: Record<string, unknown> = {}): System {
  return { name: "ubuntu", backend: "google", image: "ubuntu-22.04", workers: 1, pos: POS, where: {}, environment: [], extra };
}
function backend(extra: Record<string, unknown>, more: Partial<Backend> = {}): Backend {
  return { name: "google", type: "google", pos: POS, where: { location: LOC }, environment: [], systems: [], extra, ...more };
}

test("location is PROJECT/ZONE", () => {
  assert.deepEqual(googleLocation(backend({ location: "my-project/us-east1-b" })), { project: "my-project", zone: "us-east1-b" });
  assert.throws(
    () => googleLocation(backend({ location: "us-east1-b" })),
    (e: TroupeError) =>
      e.code === "E_PROJECT" &&
      /^spread\.yaml:7:15: backends\.google\.location: the google backend needs location: <google project>\/<compute zone>/.test(e.message),
  );
  assert.throws(() => googleLocation(backend({})), /needs location/);
  assert.throws(() => googleLocation(backend({ location: "My Project/us-east1-b" })), /is not <google project>\/<compute zone>/);
});

test("plan defaults to n1-standard-1 and storage to 10G; preserve-size keeps the image's; less than a gigabyte is an error", () => {
  const b = backend({ location: "p/z" });
  assert.deepEqual(googleSystemConfig(b, system()), {
    label: "google:ubuntu",
    image: "ubuntu-22.04",
    plan: "n1-standard-1",
    diskSizeGb: 10,
    secureBoot: false,
  });
  assert.equal(googleSystemConfig(b, system({ storage: "25G", plan: "e2-medium" })).diskSizeGb, 25);
  assert.equal(googleSystemConfig(b, system({ storage: "preserve-size" })).diskSizeGb, undefined);
  assert.throws(() => googleSystemConfig(b, system({ storage: "512M" })), /whole gigabytes/);
});

test("the lifetime is within GCE's bounds for maxRunDuration", () => {
  const ok = backend({ location: "p/z" }, { haltTimeout: 2 * 3600_000 });
  assert.equal(googleLifetime(ok, cloudSettings(ok)).lifetimeMs, 2 * 3600_000);
  const short = backend({ location: "p/z" }, { haltTimeout: 10_000 });
  assert.throws(() => googleLifetime(short, cloudSettings(short)), /30s after it starts at the soonest/);
});
