// The variables the engine gives every script: Spread's SPREAD_* (with
// SPREAD_PATH pointing at the host's copy of the project) and their TROUPE_*
// twins, plus, for task scripts, the host's place in the job.

import type { Host } from "../backends/backend.js";
import type { Job } from "../model/job.js";
import type { HostAssignment } from "./job-session.js";
import type { VarList } from "./prelude.js";
import { varName } from "./shell-quote.js";

/** SPREAD_X and TROUPE_X for each X. */
function twins(pairs: readonly (readonly [string, string])[]): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of pairs) out.push([`SPREAD_${k}`, v], [`TROUPE_${k}`, v]);
  return out;
}

/** The SPREAD_* and TROUPE_* variables of `job` on `host` (SPREAD_REBOOT is added per run of a script). */
export function jobVars(job: Job, host: Host): [string, string][] {
  return twins([
    ["JOB", job.name],
    ["PROJECT", job.project.name],
    ["PATH", host.projectPath],
    ["BACKEND", host.backend],
    ["SYSTEM", host.system],
    ["SUITE", job.suite.name],
    ["TASK", job.task.name],
    ["VARIANT", job.variant],
    ["SAMPLE", String(job.sample)],
  ]);
}

export function rebootVars(key: string): [string, string][] {
  return twins([["REBOOT", key]]);
}

/**
 * TROUPE_HOST (this host's name in the job), TROUPE_ROLE, TROUPE_HOSTS (every
 * name, space-separated) and TROUPE_HOST_ADDR_<NAME> for each host
 * (`client-1` -> TROUPE_HOST_ADDR_CLIENT_1).
 */
export function assignmentVars(self: HostAssignment, all: readonly HostAssignment[]): [string, string][] {
  const out: [string, string][] = [
    ["TROUPE_HOST", self.name],
    ["TROUPE_ROLE", self.role],
    ["TROUPE_HOSTS", all.map((a) => a.name).join(" ")],
  ];
  for (const a of all) out.push([`TROUPE_HOST_ADDR_${varName(a.name)}`, a.host.address]);
  return out;
}

export function mergeVars(...lists: (VarList | Readonly<Record<string, string>> | undefined)[]): VarList {
  const out: (readonly [string, string])[] = [];
  for (const l of lists) {
    if (!l) continue;
    out.push(...(Array.isArray(l) ? (l as VarList) : Object.entries(l as Record<string, string>)));
  }
  return out;
}
