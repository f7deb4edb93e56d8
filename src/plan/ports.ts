// The ports a job asks troupe to reserve before it starts. Two sources:
//
//   - the task's `ports:` key (config/ checked its shape and its roles):
//       ports: [http]                        free on every host of the job
//       ports: {server: [http, admin]}       free on the hosts of role server
//   - the job's TROUPE_PORTS variable, troupe's older convention, still read:
//       TROUPE_PORTS: "http:server metrics"  NAME or NAME:HOST-or-ROLE
//
// Both end up in `job.ports`; a name given twice, two names that would make
// the same TROUPE_PORT_<NAME>, or a TROUPE_PORTS entry naming no host or role
// of the job is an error here, before anything runs. Pure: the sync session
// (sync/session.ts) does the reserving.

import type { EnvVar, JobPort } from "../model/job.js";
import type { EnvEntry, HostRole, PortSpec } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { TroupeError } from "../util/errors.js";

/** `TROUPE_PORT_HTTP_API` for `http-api`: the variable every host of the job sees. */
export function portEnvName(name: string): string {
  return `TROUPE_PORT_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Read a `TROUPE_PORTS` value: names separated by spaces or commas, each
 * `NAME` or `NAME:HOST-or-ROLE`, e.g. `http:server db:server metrics`.
 * Surrounding quotes (as a Spread environment value may carry) are dropped.
 */
export function parsePortSpec(text: string): JobPort[] {
  const t = text.trim().replace(/^(["'])(.*)\1$/s, "$2");
  const out: JobPort[] = [];
  for (const word of t.split(/[\s,]+/).filter(Boolean)) {
    const [name, on] = word.split(":", 2) as [string, string | undefined];
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || (on !== undefined && on === "")) {
      throw new TroupeError("E_USAGE", `TROUPE_PORTS: bad entry "${word}" (want NAME or NAME:HOST-or-ROLE)`);
    }
    out.push(on === undefined ? { name } : { name, on });
  }
  return out;
}

export interface PortSources {
  readonly taskName: string;
  /** The task's `ports:`, as loaded. */
  readonly ports: readonly PortSpec[] | undefined;
  /** The task's roles; absent for a single-host task. */
  readonly hosts: readonly HostRole[] | undefined;
  /** The job's environment, variants resolved. */
  readonly environment: readonly EnvVar[];
  /** Environment entries from task up to project: where TROUPE_PORTS was written. */
  readonly envLevels: readonly (readonly EnvEntry[])[];
  /** Where to point when nothing better is known (the task file). */
  readonly fallbackPos: SourcePos;
}

/** Every port the job asks for, in order: `ports:` first, then TROUPE_PORTS. Undefined when none. */
export function jobPorts(src: PortSources): JobPort[] | undefined {
  const out: JobPort[] = (src.ports ?? []).map((p) => (p.on === undefined ? { name: p.name } : { name: p.name, on: p.on }));
  const byEnv = new Map<string, string>(out.map((p) => [portEnvName(p.name), p.name]));

  const entry = [...src.environment].reverse().find((e) => e.key === "TROUPE_PORTS");
  if (entry) {
    const pos = envPos(src.envLevels) ?? src.fallbackPos;
    const fail = (message: string): never => {
      throw new TroupeError("E_PROJECT", { pos, path: `${src.taskName}: environment.TROUPE_PORTS`, message });
    };
    let extra: JobPort[] = [];
    try {
      extra = parsePortSpec(entry.value);
    } catch (err) {
      fail(`${(err as Error).message}; names are words of letters, digits, '.', '-' or '_'`);
    }
    const targets = hostNames(src.hosts ?? []);
    for (const p of extra) {
      if (p.on !== undefined && !targets.includes(p.on)) {
        fail(
          targets.length === 0
            ? `TROUPE_PORTS: "${p.name}:${p.on}" names a host, but this task has no hosts: section; write just "${p.name}"`
            : `TROUPE_PORTS: "${p.name}:${p.on}": "${p.on}" is not a role or host of this task (${targets.join(", ")})`,
        );
      }
      const env = portEnvName(p.name);
      const before = byEnv.get(env);
      if (before !== undefined) {
        fail(
          before === p.name
            ? `TROUPE_PORTS asks for port ${p.name}, which is already reserved (ports: or TROUPE_PORTS); name it once`
            : `TROUPE_PORTS: ports ${before} and ${p.name} would both be ${env}; rename one`,
        );
      }
      byEnv.set(env, p.name);
      out.push(p);
    }
  }
  return out.length > 0 ? out : undefined;
}

/** Roles and the names of their hosts: `server`, `client`, `client-1`, `client-2`. */
export function hostNames(roles: readonly HostRole[]): string[] {
  const out: string[] = [];
  for (const r of roles) {
    out.push(r.name);
    if (r.count > 1) for (let i = 1; i <= r.count; i++) out.push(`${r.name}-${i}`);
  }
  return out;
}

/** Where the TROUPE_PORTS that wins was written: the most specific level, its last entry. */
function envPos(levels: readonly (readonly EnvEntry[])[]): SourcePos | undefined {
  for (const entries of levels) {
    const found = [...entries].reverse().find((e) => e.key === "TROUPE_PORTS" || e.key.startsWith("TROUPE_PORTS/"));
    if (found) return found.pos;
  }
  return undefined;
}
