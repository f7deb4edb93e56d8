// Shared parts of the google backend's CLI tests: a fake Compute API with
// Ubuntu's public images, a user's environment that points troupe at it (and
// at nothing else), and troupe run as a child process while the fake
// answers in this one.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { after, before } from "node:test";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TROUPE } from "../cli/helpers.js";
import { FakeCompute, type FakeOptions } from "./fake-compute.js";

export const PROJECT = "troupe-fake-1";
export const ZONE = "us-east1-b";

/** Ubuntu's images as ubuntu-os-cloud lists them (two of one family, the newer first in lists). */
export const UBUNTU_IMAGES: FakeOptions["images"] = [
  {
    project: "ubuntu-os-cloud",
    name: "ubuntu-2404-noble-amd64-v20251101",
    family: "ubuntu-2404-lts-amd64",
    description: "Canonical, Ubuntu, 24.04 LTS, amd64 noble image built on 2025-11-01",
    creationTimestamp: "2025-11-02T10:00:00.000-07:00",
  },
  {
    project: "ubuntu-os-cloud",
    name: "ubuntu-2404-noble-amd64-v20250901",
    family: "ubuntu-2404-lts-amd64",
    description: "Canonical, Ubuntu, 24.04 LTS, amd64 noble image built on 2025-09-01",
    creationTimestamp: "2025-09-02T10:00:00.000-07:00",
  },
  {
    project: "ubuntu-os-cloud",
    name: "ubuntu-2204-jammy-v20251101",
    family: "ubuntu-2204-lts",
    description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image built on 2025-11-01",
    creationTimestamp: "2025-11-02T09:00:00.000-07:00",
  },
];

export async function startFake(more: Partial<FakeOptions> = {}): Promise<FakeCompute> {
  const fake = new FakeCompute({ project: PROJECT, zones: [ZONE, "us-east1-c"], images: UBUNTU_IMAGES, ...more });
  await fake.start();
  return fake;
}

/**
 * Register the file's before/after hooks: the fake started before its
 * tests and closed after them (its guests removed), with the project
 * directories the tests made (`made`).
 */
export function useFake(): { readonly fake: FakeCompute; readonly made: string[] } {
  let fake: FakeCompute | undefined;
  const made: string[] = [];
  before(async () => {
    fake = await startFake();
  });
  after(async () => {
    await fake?.close();
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return {
    get fake(): FakeCompute {
      if (!fake) throw new Error("the fake Compute API is not started (useFake() at the top of the file)");
      return fake;
    },
    made,
  };
}

/** A loopback port nothing listens on (a metadata server that is not there). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * The environment of a user whose only Google is the fake: its endpoint, an
 * empty home (no gcloud credentials), no GOOGLE_APPLICATION_CREDENTIALS, and
 * a metadata server address where nothing answers.
 */
export async function userEnv(fake: FakeCompute, more: Record<string, string> = {}): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(GOOGLE_|CLOUDSDK_|GCE_)/.test(k)) env[k] = v;
  return {
    ...env,
    NO_COLOR: "1",
    CLOUDSDK_CONFIG: mkdtempSync(join(tmpdir(), "gce-gcloud-")),
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: fake.computeUrl,
    GCE_METADATA_HOST: `127.0.0.1:${await closedPort()}`,
    ...more,
  };
}

/** The fake's service-account key, written where a user keeps it. */
export function writeKey(fake: FakeCompute, dir: string, name = "key.json"): string {
  const path = join(dir, name);
  writeFileSync(path, fake.keyFile(), { mode: 0o600 });
  return path;
}

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run troupe to its end without blocking this process (the fake answers
 * here meanwhile). `when` sends a signal to it once its output matches.
 */
export function troupe(
  args: readonly string[],
  o: { cwd?: string; env: Record<string, string>; when?: { readonly output: RegExp; readonly signal: NodeJS.Signals } },
): Promise<Result> {
  const child = spawn(process.execPath, [TROUPE, ...args], { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let sent = false;
  const look = (): void => {
    if (o.when && !sent && o.when.output.test(stdout + stderr)) {
      sent = true;
      child.kill(o.when.signal);
    }
  };
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString("utf8");
    look();
  });
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
    look();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** The backends of a scenario file whose hosts are google instances (the backend `cloud`, the key in key.json). */
export const SCENARIO_BACKENDS = `backends:
  cloud:
    type: google
    key: key.json
    location: ${PROJECT}/${ZONE}
    halt-timeout: 20m
    systems:
      - ubuntu-22.04
`;

/** A Spread project whose google backend is `backend` (YAML lines under `google:`), with `files` beside it. */
export function spreadYaml(backend: string, suites = "  checks/:\n    summary: checks\n"): string {
  return [
    "project: gce-it",
    "path: /root/gce-it",
    "backends:",
    "  google:",
    ...backend
      .trim()
      .split("\n")
      .map((l) => `    ${l}`),
    "suites:",
    suites.replace(/\n$/, ""),
    "",
  ].join("\n");
}
