// The scenario's hosts: names and ranges (`node-[1..20]`, pdsh's
// `node[01-20]`, `web,db[1..2]`) expanded, each given its backend, system and
// groups. Pure.

import type { Backend, System } from "../model/project.js";
import { EXPERIMENT_IMAGE_KEY } from "../backends/cloud/experiment.js";
import { effectiveType, type DriverForOptions } from "../backends/registry.js";
import type { SourcePos } from "../model/position.js";
import { expandHostlist } from "../util/hostlist.js";
import { TroupeError, isTroupeError } from "../util/errors.js";
import type { PlannedHost } from "./types.js";

/** Names a host cannot have: they mean something in URIs (`self://`, `orchestrator://`). */
export const RESERVED_HOST_NAMES: readonly string[] = ["self", "orchestrator", "http", "https"];

/** Host names are used in URIs, file names and shell variables: keep them plain (Octogram's agents may start or end with `_`: `boot_`). */
export const VALID_HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;

export const DEFAULT_SCENARIO_BACKEND = "local";

/** Backends a scenario may name without declaring them, with one default system each. */
const IMPLICIT_BACKENDS: Readonly<Record<string, string>> = { local: "localhost", lab: "lab" };

export interface HostsEntry {
  readonly names: readonly string[];
  readonly backend?: string;
  readonly system?: string;
  readonly groups: readonly string[];
  /** Where the entry was written, and where its names are. */
  readonly pos?: SourcePos;
  readonly namesPos?: SourcePos;
  readonly backendPos?: SourcePos;
  readonly systemPos?: SourcePos;
  /** A Docker image the hosts run the experiment in (Tezt-cloud's image). */
  readonly image?: string;
  readonly imagePos?: SourcePos;
  readonly path: readonly (string | number)[];
}

/** Backend types that run a group's `image:`: docker runs it as the host; the clouds run it in a container on each machine. */
export const IMAGE_BACKEND_TYPES: readonly string[] = ["docker", "ec2", "google"];

export interface HostProblem {
  readonly pos?: SourcePos;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** `node-[1..20]` -> node-1 ... node-20; `..` ranges and everything pdsh's hostlists allow. */
export function expandHostNames(expr: string): string[] {
  const pdsh = expr.replace(/\[([^\]]*)\]/g, (_m, body: string) => `[${body.replace(/(\d+)\s*\.\.\s*(\d+)/g, "$1-$2")}]`);
  try {
    return expandHostlist(pdsh);
  } catch (e) {
    if (isTroupeError(e))
      throw new Error(e.message.replace(`'${pdsh}'`, `'${expr}'`).replace(/^bad hostlist/, "bad host names"), { cause: e });
    throw e;
  }
}

/** A backend troupe makes up when a scenario names `local` or `lab` without declaring it. */
export function implicitBackend(name: string, pos: SourcePos): Backend | undefined {
  const systemName = IMPLICIT_BACKENDS[name];
  if (systemName === undefined) return undefined;
  const system: System = { name: systemName, backend: name, image: systemName, workers: 1, pos, where: {}, environment: [], extra: {} };
  return { name, type: name, pos, where: {}, environment: [], systems: [system], extra: {} };
}

/**
 * Expand the entries into hosts. `backends` are those the scenario declares;
 * `local` and `lab` may be used without declaring them. Problems are
 * returned, not thrown, so that all of them are reported at once.
 */
export function planHosts(entries: readonly HostsEntry[], backends: readonly Backend[]): { hosts: PlannedHost[]; problems: HostProblem[] } {
  const problems: HostProblem[] = [];
  const hosts: PlannedHost[] = [];
  const seen = new Map<string, HostsEntry>();
  const counts = new Map<string, number>();
  const implicit = new Map<string, Backend>();

  for (const entry of entries) {
    const backendName = entry.backend ?? DEFAULT_SCENARIO_BACKEND;
    let backend = backends.find((b) => b.name === backendName) ?? implicit.get(backendName);
    if (!backend) {
      backend = implicitBackend(backendName, entry.backendPos ?? entry.pos ?? { file: "", line: 1, col: 1 });
      if (backend) implicit.set(backendName, backend);
    }
    if (!backend) {
      const declared = backends.map((b) => b.name);
      problems.push({
        ...((entry.backendPos ?? entry.pos) ? { pos: (entry.backendPos ?? entry.pos)! } : {}),
        path: [...entry.path, "backend"],
        message:
          `no backend '${backendName}': declare it under backends: (as in troupe.yaml), or use local or lab` +
          (declared.length ? ` (declared: ${declared.join(", ")})` : ""),
      });
      continue;
    }
    let system: System | undefined;
    if (entry.system !== undefined) {
      system = backend.systems.find((s) => s.name === entry.system);
      if (!system) {
        problems.push({
          ...((entry.systemPos ?? entry.pos) ? { pos: (entry.systemPos ?? entry.pos)! } : {}),
          path: [...entry.path, "system"],
          message: `backend '${backend.name}' has no system '${entry.system}' (it has: ${backend.systems.map((s) => s.name).join(", ") || "none"})`,
        });
        continue;
      }
    } else {
      system = backend.systems[0];
      if (!system) {
        problems.push({ ...(entry.pos ? { pos: entry.pos } : {}), path: entry.path, message: `backend '${backend.name}' has no systems` });
        continue;
      }
    }
    if (entry.image !== undefined) {
      if (entry.image.trim() === "" || /\s/.test(entry.image)) {
        problems.push({
          ...((entry.imagePos ?? entry.pos) ? { pos: (entry.imagePos ?? entry.pos)! } : {}),
          path: [...entry.path, "image"],
          message: `image: is a Docker image reference such as registry.example.com/tezos:v21, not ${JSON.stringify(entry.image)}`,
        });
        continue;
      }
      // The hosts' system, with the image: backends read it from there (cloud/experiment.ts), and the docker backend runs it.
      system = { ...system, extra: { ...system.extra, [EXPERIMENT_IMAGE_KEY]: entry.image } };
    }
    for (const group of entry.groups) {
      if (!VALID_HOST_NAME.test(group)) {
        problems.push({
          ...(entry.pos ? { pos: entry.pos } : {}),
          path: [...entry.path, "groups"],
          message: `invalid group name '${group}'; use letters, digits, '.', '_' and '-'`,
        });
      }
    }
    for (const expr of entry.names) {
      let names: string[];
      try {
        names = expandHostNames(expr);
      } catch (e) {
        problems.push({
          ...((entry.namesPos ?? entry.pos) ? { pos: (entry.namesPos ?? entry.pos)! } : {}),
          path: [...entry.path, "names"],
          message: (e as Error).message,
        });
        continue;
      }
      for (const name of names) {
        const where = entry.namesPos ?? entry.pos;
        if (!VALID_HOST_NAME.test(name) || RESERVED_HOST_NAMES.includes(name)) {
          problems.push({
            ...(where ? { pos: where } : {}),
            path: [...entry.path, "names"],
            message: RESERVED_HOST_NAMES.includes(name)
              ? `'${name}' cannot be a host name: ${name}:// means something in URIs`
              : `invalid host name '${name}'; use letters, digits, '.', '_' and '-' (no ':' or '/': names are used in HOST:// URIs)`,
          });
          continue;
        }
        const earlier = seen.get(name);
        if (earlier) {
          problems.push({
            ...(where ? { pos: where } : {}),
            path: [...entry.path, "names"],
            message: `host '${name}' is listed twice` + (earlier.namesPos ? ` (first at line ${earlier.namesPos.line})` : ""),
          });
          continue;
        }
        seen.set(name, entry);
        const key = `${backend.name}\0${system.name}`;
        const index = (counts.get(key) ?? 0) + 1;
        counts.set(key, index);
        hosts.push({
          name,
          backend,
          system,
          groups: [...entry.groups],
          index,
          ...(where ? { pos: where } : {}),
          ...(entry.image !== undefined ? { image: { name: entry.image, ...(entry.imagePos ? { pos: entry.imagePos } : {}) } } : {}),
        });
      }
    }
  }
  if (entries.length > 0 && hosts.length === 0 && problems.length === 0) {
    problems.push({ path: ["hosts"], message: "no hosts: list at least one, e.g. - names: node-[1..3]" });
  }
  return { hosts, problems };
}

/**
 * Hosts whose group names an `image:` must run on a backend that can run it
 * (IMAGE_BACKEND_TYPES), as `--backend-as` maps it in this run: a local or
 * lab host would silently run the experiment without its image. Throws
 * E_PROJECT at the first such group's `image:`.
 */
export function checkImageBackends(hosts: readonly PlannedHost[], options: DriverForOptions = {}): void {
  for (const h of hosts) {
    if (!h.image) continue;
    const type = effectiveType(h.backend, options);
    if (IMAGE_BACKEND_TYPES.includes(type)) continue;
    const as = type !== h.backend.type ? ` (--backend-as ${h.backend.name}=${type})` : "";
    throw new TroupeError("E_PROJECT", {
      ...((h.image.pos ?? h.pos) ? { pos: (h.image.pos ?? h.pos)! } : {}),
      message:
        `host ${h.name} runs the experiment in ${h.image.name}, and backend '${h.backend.name}' runs as ${type}${as}, which cannot run an image; ` +
        `use a ${IMAGE_BACKEND_TYPES.join(", ")} backend, or run this one as local containers: --backend-as ${h.backend.name}=docker`,
    });
  }
}

/**
 * What to ask a local or lab driver for, so that the machine gets the
 * scenario's name as its host name: those drivers name a host
 * `<system>-<index>`, so `node-3` is asked as system `node`, index 3. Other
 * backends pick machines by index (ssh: the Nth of the list), so they are
 * asked as planned.
 */
export function allocationRequest(host: PlannedHost, backendType: string): { system: System; index: number } {
  if (backendType !== "local" && backendType !== "lab") return { system: host.system, index: host.index };
  const m = /^(.*[^\d-])-?(\d+)$/.exec(host.name);
  const base = m ? m[1]! : host.name;
  const index = m ? Number(m[2]) : 1;
  return { system: { ...host.system, name: base }, index: Number.isSafeInteger(index) && index > 0 ? index : 1 };
}
