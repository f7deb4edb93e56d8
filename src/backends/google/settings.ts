// The google backend's keys, as Spread reads them (spread/google.go), into
// what one instance needs. Pure: no I/O.
//
//   location: PROJECT/ZONE        where instances go (required)
//   key: FILE or JSON             credentials (see credentials.ts)
//   plan: MACHINE-TYPE            default n1-standard-1 (backend or system)
//   storage: 20G | preserve-size  boot disk size, default 10G (backend or system)
//   halt-timeout: 2h              the most an instance lives (backend; with troupe's
//                                 max-hours and its default, see cloud/settings.ts)
//   image: NAME | FAMILY | PROJECT/NAME   (system; see images.ts)
//   cpu-family: "Intel Skylake"   minCpuPlatform (system)
//   secure-boot: true             shielded VM with secure boot (system)
//
// and the keys every cloud backend reads (cloud/settings.ts): max-hosts,
// max-hours, partial, api-concurrency, boot-timeout.

import type { Backend, System } from "../../model/project.js";
import { TroupeError } from "../../util/errors.js";
import type { CloudSettings } from "../cloud/settings.js";
import { sizeBytes } from "../docker/options.js";

export const DEFAULT_PLAN = "n1-standard-1";
export const DEFAULT_DISK_GB = 10;
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
}

const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
const PROJECT = /^[a-z][-a-z0-9.:]{4,61}[a-z0-9]$/;

/** `location: PROJECT/ZONE`, Spread's form (`raw`: its text, `$(HOST:cmd)` run); an error at the key's position otherwise. */
export function googleLocation(backend: Backend, raw: unknown = backend.extra["location"]): GoogleLocation {
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

/** The cloud settings, their lifetime within what GCE's maxRunDuration takes (an error at halt-timeout otherwise). */
export function googleLifetime(backend: Backend, settings: CloudSettings): CloudSettings {
  const ms = settings.lifetimeMs;
  if (ms < MIN_RUN_MS || ms > MAX_RUN_MS) {
    throw new TroupeError("E_PROJECT", {
      pos: backend.where["halt-timeout"] ?? backend.pos,
      path: `backends.${backend.name}.halt-timeout`,
      message:
        "GCE deletes an instance 30s after it starts at the soonest and 120 days at the latest: give halt-timeout (or max-hours) a value in between",
    });
  }
  return settings;
}

function pick(backend: Backend, system: System, key: string): unknown {
  return system.extra[key] ?? backend.extra[key];
}

export function googleSystemConfig(backend: Backend, system: System): GoogleSystemConfig {
  const label = `${backend.name}:${system.name}`;
  const plan = pick(backend, system, "plan");
  const storage = pick(backend, system, "storage");
  const cpuFamily = system.extra["cpu-family"];
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
  };
}
