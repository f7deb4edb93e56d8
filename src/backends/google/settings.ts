// The google backend's keys, as Spread reads them (spread/google.go), into
// what one instance needs. Pure: no I/O.
//
//   location: PROJECT/ZONE        where instances go (required)
//   key: FILE or JSON             credentials (see credentials.ts)
//   plan: MACHINE-TYPE            default n1-standard-1 (backend or system)
//   storage: 20G | preserve-size  boot disk size, default 10G (backend or system)
//   halt-timeout: 2h              the most an instance lives (backend)
//   image: NAME | FAMILY | PROJECT/NAME   (system; see images.ts)
//   cpu-family: "Intel Skylake"   minCpuPlatform (system)
//   secure-boot: true             shielded VM with secure boot (system)
//   boot-timeout: 5m              troupe's: how long the startup script may take to say the
//                                 machine is ready (backend or system; default 3m, Spread's)

import type { Backend, System } from "../../model/project.js";
import { parseDuration } from "../../config/duration.js";
import { TroupeError } from "../../util/errors.js";
import { sizeBytes } from "../docker/options.js";

export const DEFAULT_PLAN = "n1-standard-1";
export const DEFAULT_DISK_GB = 10;
export const DEFAULT_BOOT_TIMEOUT_MS = 3 * 60_000;
/**
 * An instance's lifetime when the backend has no halt-timeout: GCE deletes
 * it after this long whatever troupe does (Spread sets none; troupe always
 * sets one, so that a machine cannot outlive a lost run by days).
 */
export const DEFAULT_HALT_TIMEOUT_MS = 6 * 3600_000;
/** GCE's bounds on maxRunDuration: 30 s to 120 days. */
const MIN_RUN_MS = 30_000;
const MAX_RUN_MS = 120 * 24 * 3600_000;

export interface GoogleLocation {
  readonly project: string;
  readonly zone: string;
}

export interface GoogleSystemConfig {
  /** `backend:system`, for messages. */
  readonly label: string;
  readonly image: string;
  readonly plan: string;
  /** Absent with `storage: preserve-size`: the image's own size. */
  readonly diskSizeGb?: number;
  readonly cpuFamily?: string;
  readonly secureBoot: boolean;
  readonly bootTimeoutMs: number;
}

const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
const PROJECT = /^[a-z][-a-z0-9.:]{4,61}[a-z0-9]$/;

/** `location: PROJECT/ZONE`, Spread's form; an error at the key's position otherwise. */
export function googleLocation(backend: Backend): GoogleLocation {
  const raw = backend.extra["location"];
  const where = { pos: backend.where["location"] ?? backend.pos, path: `backends.${backend.name}.location` };
  const text = typeof raw === "string" ? raw.trim() : "";
  const slash = text.indexOf("/");
  const project = slash > 0 ? text.slice(0, slash) : "";
  const zone = slash > 0 ? text.slice(slash + 1) : "";
  if (!project || !zone) {
    throw new TroupeError("E_PROJECT", {
      ...where,
      message: `the google backend needs location: <google project>/<compute zone>, e.g. location: my-project/us-east1-b${text ? ` (not ${JSON.stringify(text)})` : ""}`,
    });
  }
  if (!PROJECT.test(project) || !ZONE.test(zone)) {
    throw new TroupeError("E_PROJECT", {
      ...where,
      message: `${JSON.stringify(text)} is not <google project>/<compute zone>: a project id is lower-case letters, digits and -, a zone looks like us-east1-b`,
    });
  }
  return { project, zone };
}

/** A duration in ms from halt-timeout, within what GCE accepts; undefined with -1 (no lifetime). */
export function haltTimeoutMs(backend: Backend): number | undefined {
  const ms = backend.haltTimeout;
  if (ms === -1) return undefined;
  if (ms === undefined || ms === 0) return DEFAULT_HALT_TIMEOUT_MS;
  if (ms < MIN_RUN_MS || ms > MAX_RUN_MS) {
    throw new TroupeError("E_PROJECT", {
      pos: backend.where["halt-timeout"] ?? backend.pos,
      path: `backends.${backend.name}.halt-timeout`,
      message:
        "GCE deletes an instance after 30s at the least and 120 days at the most: give halt-timeout a value in between, or -1 for no lifetime",
    });
  }
  return ms;
}

function pick(backend: Backend, system: System, key: string): unknown {
  return system.extra[key] ?? backend.extra[key];
}

export function googleSystemConfig(backend: Backend, system: System): GoogleSystemConfig {
  const label = `${backend.name}:${system.name}`;
  const plan = pick(backend, system, "plan");
  const storage = pick(backend, system, "storage");
  const cpuFamily = system.extra["cpu-family"];
  const boot = pick(backend, system, "boot-timeout");
  let bootTimeoutMs = DEFAULT_BOOT_TIMEOUT_MS;
  if (boot !== undefined) {
    const ms = typeof boot === "string" || typeof boot === "number" ? parseDuration(boot) : undefined;
    if (ms === undefined || ms <= 0) {
      throw new TroupeError("E_PROJECT", {
        pos: system.where["boot-timeout"] ?? backend.where["boot-timeout"] ?? system.pos,
        path: `backends.${backend.name}.boot-timeout`,
        message: `${JSON.stringify(boot)} is not a duration like 90s or 5m`,
      });
    }
    bootTimeoutMs = ms;
  }
  let diskSizeGb: number | undefined = DEFAULT_DISK_GB;
  if (storage === "preserve-size") diskSizeGb = undefined;
  else if (typeof storage === "string") {
    const bytes = sizeBytes(storage) ?? 0;
    diskSizeGb = Math.floor(bytes / 1024 ** 3);
    if (diskSizeGb < 1) {
      throw new TroupeError("E_PROJECT", {
        pos: system.where["storage"] ?? backend.where["storage"] ?? system.pos,
        path: `backends.${backend.name}.systems.${system.name}.storage`,
        message: `google disks come in whole gigabytes: write storage: 10G or more, or preserve-size (not ${storage})`,
      });
    }
  }
  return {
    label,
    image: system.image,
    plan: typeof plan === "string" && plan.trim() !== "" ? plan.trim() : DEFAULT_PLAN,
    ...(diskSizeGb !== undefined ? { diskSizeGb } : {}),
    ...(typeof cpuFamily === "string" && cpuFamily !== "" ? { cpuFamily } : {}),
    secureBoot: system.extra["secure-boot"] === true,
    bootTimeoutMs,
  };
}
