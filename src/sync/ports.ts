// Ports chosen before a job starts, so that every host knows in advance on
// which port a server will listen.
//
// What we chose: when the job session opens, the relay of each host that
// will serve a named port lists the TCP ports in use there (it reads
// /proc/net/tcp and /proc/net/tcp6 with the shell's `read`: no tool needed).
// The orchestrator then picks, for each name, a port of the run's range
// (20000-29999 by default: below Linux's ephemeral range) that is in use on
// none of the target hosts and not handed out to another open job session
// on the same address (so parallel jobs on one machine, as with the local
// backend, never get the same port). The start point is a hash of the job
// and port name, so reruns tend to get the same ports. On a host where
// nothing can be read (no /proc), the pick falls back to the range alone.
// The port is chosen, not bound: a process outside troupe may still take it
// before the server does; the window is small and the range is quiet.
//
// Every host of the job then sees it as TROUPE_PORT_<NAME> in its scripts'
// environment, as `troupe-ctl port <name>` and as `troupe-ctl kv get port/<name>`.
// Which ports a job asks for (the task's `ports:`, TROUPE_PORTS) is decided
// at plan time: plan/ports.ts.

import { createHash } from "node:crypto";
import type { JobPort } from "../model/job.js";
import { parsePortSpec, portEnvName } from "../plan/ports.js";
import { TroupeError } from "../util/errors.js";

/** `http` (env TROUPE_PORT_HTTP, `troupe-ctl port http`), listened on by `on` (a host or role; every host when absent). */
export type PortRequest = JobPort;

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export const DEFAULT_PORT_RANGE: PortRange = { from: 20000, to: 29999 };

// What a job asks for is planned in plan/ports.ts; these stay here for callers of sync/.
export { parsePortSpec, portEnvName };

/** Ports handed out to open sessions, per host address: one per process. */
export class PortRegistry {
  private readonly taken = new Map<string, Set<number>>();

  isTaken(address: string, port: number): boolean {
    return this.taken.get(address)?.has(port) ?? false;
  }

  take(address: string, port: number): void {
    let s = this.taken.get(address);
    if (!s) this.taken.set(address, (s = new Set()));
    s.add(port);
  }

  release(address: string, port: number): void {
    const s = this.taken.get(address);
    s?.delete(port);
    if (s?.size === 0) this.taken.delete(address);
  }
}

export const portRegistry = new PortRegistry();

export interface PortTarget {
  readonly address: string;
  /** Ports in use there; empty when unknown. */
  readonly used: ReadonlySet<number>;
}

/**
 * A port of `range` free on every target, not taken in `registry`, nor in
 * `avoid`; searched from a point that depends on `seed`. Throws when the
 * range is exhausted.
 */
export function choosePort(
  seed: string,
  targets: readonly PortTarget[],
  range: PortRange,
  registry: PortRegistry,
  avoid: ReadonlySet<number> = new Set(),
): number {
  const size = range.to - range.from + 1;
  if (!Number.isInteger(range.from) || !Number.isInteger(range.to) || size < 1 || range.from < 1 || range.to > 65535) {
    throw new TroupeError("E_USAGE", `bad port range ${range.from}-${range.to}`);
  }
  const start = createHash("sha256").update(seed).digest().readUInt32BE(0) % size;
  for (let i = 0; i < size; i++) {
    const port = range.from + ((start + i) % size);
    if (avoid.has(port)) continue;
    if (targets.some((t) => t.used.has(port) || registry.isTaken(t.address, port))) continue;
    return port;
  }
  throw new TroupeError("E_BACKEND", `no free port left in ${range.from}-${range.to} on ${targets.map((t) => t.address).join(", ")}`);
}
