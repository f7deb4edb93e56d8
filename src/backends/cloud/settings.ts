// Settings every cloud backend (ec2, google) reads the same way from its
// backend's keys: the cost guards a user sets once in the project
// (`max-hosts`, `max-hours`), the partial-allocation policy, how many
// provider API calls may be in flight, and the lifetime of each machine
// (Spread's `halt-timeout`, capped by `max-hours`). Pure: no I/O.

import type { Backend, System } from "../../model/project.js";
import { TroupeError } from "../../util/errors.js";

/** What to do when fewer machines come up than were asked for. */
export type PartialPolicy = "use" | "fail";

export interface CloudSettings {
  /** At most this many machines of this backend alive at once in the run. */
  readonly maxHosts?: number;
  /** No machine lives longer than this many hours. */
  readonly maxHours?: number;
  readonly partial: PartialPolicy;
  /** Provider API calls in flight at once. */
  readonly apiConcurrency: number;
  /** How long a machine lives at most, from its creation (ms). */
  readonly lifetimeMs: number;
  /** How long a new machine may take to answer on SSH (ms). */
  readonly bootTimeoutMs: number;
}

/** Command-line overrides (`--max-hosts`, `--max-hours`): they win over the project's keys when lower. */
export interface CloudGuardOverrides {
  readonly maxHosts?: number;
  readonly maxHours?: number;
}

/** A machine lives this long when neither halt-timeout nor max-hours says otherwise. */
export const DEFAULT_LIFETIME_MS = 4 * 3_600_000;
export const DEFAULT_API_CONCURRENCY = 4;
export const DEFAULT_CLOUD_BOOT_TIMEOUT_MS = 10 * 60_000;

function positiveNumber(backend: Backend, key: string, integer: boolean): number | undefined {
  const v = backend.extra[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new TroupeError("E_PROJECT", {
      pos: backend.where[key] ?? backend.pos,
      path: `backends.${backend.name}.${key}`,
      message: `must be a positive ${integer ? "whole number" : "number"}, not ${JSON.stringify(v)}`,
    });
  }
  return n;
}

function bootTimeout(backend: Backend, system?: System): number {
  const v = system?.extra["boot-timeout"] ?? backend.extra["boot-timeout"];
  if (v === undefined || v === null) return DEFAULT_CLOUD_BOOT_TIMEOUT_MS;
  const s = typeof v === "string" || typeof v === "number" ? String(v) : JSON.stringify(v);
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(s);
  if (!m) {
    throw new TroupeError("E_PROJECT", {
      pos: system?.where["boot-timeout"] ?? backend.where["boot-timeout"] ?? backend.pos,
      path: `backends.${backend.name}.boot-timeout`,
      message: `must be seconds or a duration such as 90s or 10m, not ${JSON.stringify(s)}`,
    });
  }
  const unit = m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : 1000;
  return Number(m[1]) * unit;
}

/** The cloud settings of a backend, with positioned errors for bad values. */
export function cloudSettings(backend: Backend, overrides: CloudGuardOverrides = {}, system?: System): CloudSettings {
  const fromProject = {
    maxHosts: positiveNumber(backend, "max-hosts", true),
    maxHours: positiveNumber(backend, "max-hours", false),
  };
  const lower = (a?: number, b?: number): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const maxHosts = lower(fromProject.maxHosts, overrides.maxHosts);
  const maxHours = lower(fromProject.maxHours, overrides.maxHours);
  const partialRaw = backend.extra["partial"];
  if (partialRaw !== undefined && partialRaw !== "use" && partialRaw !== "fail") {
    throw new TroupeError("E_PROJECT", {
      pos: backend.where["partial"] ?? backend.pos,
      path: `backends.${backend.name}.partial`,
      message: `is use (go on with the machines that came up, release the rest) or fail (release them all and fail), not ${JSON.stringify(partialRaw)}`,
    });
  }
  const halt = backend.haltTimeout !== undefined && backend.haltTimeout > 0 ? backend.haltTimeout : undefined;
  const cap = maxHours !== undefined ? maxHours * 3_600_000 : undefined;
  const lifetimeMs = lower(halt, cap) ?? DEFAULT_LIFETIME_MS;
  return {
    ...(maxHosts !== undefined ? { maxHosts } : {}),
    ...(maxHours !== undefined ? { maxHours } : {}),
    partial: partialRaw ?? "fail",
    apiConcurrency: positiveNumber(backend, "api-concurrency", true) ?? DEFAULT_API_CONCURRENCY,
    lifetimeMs,
    bootTimeoutMs: bootTimeout(backend, system),
  };
}

/** When a machine made at `now` is to be gone. */
export function haltAt(settings: Pick<CloudSettings, "lifetimeMs">, now: Date = new Date()): Date {
  return new Date(now.getTime() + settings.lifetimeMs);
}

/** Whole minutes of a lifetime, at least 1: what a shutdown timer on the machine is given. */
export function lifetimeMinutes(settings: Pick<CloudSettings, "lifetimeMs">): number {
  return Math.max(1, Math.ceil(settings.lifetimeMs / 60_000));
}
