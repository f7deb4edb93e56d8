// Small builders for Project models, so plan tests do not need config/.
// Environment maps are given as plain objects (insertion order is file order);
// positions are synthetic but distinct, so tests can check which one an error
// points at.

import type { Backend, EnvEntry, HostRole, PortSpec, Project, Suite, System, Task } from "../../../src/model/project.js";
import type { SourcePos } from "../../../src/model/position.js";

let line = 0;
function pos(file = "spread.yaml"): SourcePos {
  line++;
  return { file, line, col: 1 };
}

export function env(map: Record<string, string> = {}, file = "spread.yaml"): EnvEntry[] {
  return Object.entries(map).map(([key, value]) => ({ key, value, pos: pos(file) }));
}

type Common = {
  environment?: Record<string, string>;
  variants?: string[];
  priority?: number;
  manual?: boolean;
  warnTimeout?: number;
  killTimeout?: number;
};

type TaskSpec = Common & {
  systems?: string[];
  backends?: string[];
  samples?: number;
  prepare?: string;
  restore?: string;
  execute?: string;
  debug?: string;
  hosts?: { name: string; count?: number; system?: string }[];
  ports?: { name: string; on?: string }[];
};

type SuiteSpec = Common & {
  systems?: string[];
  backends?: string[];
  prepare?: string;
  restore?: string;
  debug?: string;
  prepareEach?: string;
  restoreEach?: string;
  debugEach?: string;
  /** Task name (last path element) -> task. */
  tasks: Record<string, TaskSpec>;
};

type SystemSpec = Common & { workers?: number; image?: string };

type BackendSpec = Common & {
  type?: string;
  prepare?: string;
  restore?: string;
  debug?: string;
  prepareEach?: string;
  restoreEach?: string;
  debugEach?: string;
  key?: string;
  /** System name -> settings (or a bare list of names). */
  systems: Record<string, SystemSpec> | string[];
};

export type ProjectSpec = Common & {
  name?: string;
  path?: string;
  prepare?: string;
  restore?: string;
  debug?: string;
  prepareEach?: string;
  restoreEach?: string;
  debugEach?: string;
  include?: string[];
  exclude?: string[];
  rename?: string[];
  backends: Record<string, BackendSpec>;
  suites: Record<string, SuiteSpec>;
};

/** Field positions for the list-like keys that are set, so errors can point at them. */
function where(spec: Record<string, unknown>, file: string): Record<string, SourcePos> {
  const out: Record<string, SourcePos> = {};
  for (const k of ["variants", "systems", "backends", "hosts", "path", "key"]) {
    if (spec[k] !== undefined) out[k] = pos(file);
  }
  return out;
}

function common(spec: Common, file: string) {
  return {
    environment: env(spec.environment, file),
    ...(spec.variants ? { variants: spec.variants } : {}),
    ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
    ...(spec.manual !== undefined ? { manual: spec.manual } : {}),
    ...(spec.warnTimeout !== undefined ? { warnTimeout: spec.warnTimeout } : {}),
    ...(spec.killTimeout !== undefined ? { killTimeout: spec.killTimeout } : {}),
  };
}

function pick<T extends object, K extends keyof T>(spec: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (spec[k] !== undefined) out[k] = spec[k];
  return out;
}

const HOOKS = ["prepare", "restore", "debug", "prepareEach", "restoreEach", "debugEach"] as const;

export function buildProject(spec: ProjectSpec): Project {
  const file = "/proj/spread.yaml";
  const backends: Backend[] = Object.entries(spec.backends).map(([name, b]) => {
    const sysSpecs: Record<string, SystemSpec> = Array.isArray(b.systems) ? Object.fromEntries(b.systems.map((s) => [s, {}])) : b.systems;
    const systems: System[] = Object.entries(sysSpecs).map(([sname, s]) => ({
      name: sname,
      backend: name,
      image: s.image ?? sname,
      workers: s.workers ?? 1,
      extra: {},
      pos: pos(file),
      where: where(s, file),
      ...common(s, file),
    }));
    return {
      name,
      type: b.type ?? name,
      systems,
      extra: {},
      pos: pos(file),
      where: where(b, file),
      ...common(b, file),
      ...pick(b, HOOKS),
      ...(b.key !== undefined ? { key: b.key } : {}),
    };
  });
  const suites: Suite[] = Object.entries(spec.suites).map(([sname, s]) => {
    const tasks: Task[] = Object.entries(s.tasks).map(([tname, t]) => {
      const tfile = `/proj/${sname}${tname}/task.yaml`;
      const hosts: HostRole[] | undefined = t.hosts?.map((h) => ({
        name: h.name,
        count: h.count ?? 1,
        ...(h.system ? { system: h.system } : {}),
        pos: pos(tfile),
      }));
      const ports: PortSpec[] | undefined = t.ports?.map((p) => ({ ...p, pos: pos(tfile) }));
      return {
        name: sname + tname,
        suite: sname,
        dir: `/proj/${sname}${tname}`,
        summary: `task ${tname}`,
        roleScripts: {},
        artifacts: [],
        pos: { file: tfile, line: 1, col: 1 },
        where: where(t, tfile),
        ...common(t, tfile),
        ...pick(t, ["systems", "backends", "samples", "prepare", "restore", "execute", "debug"] as const),
        ...(hosts ? { hosts } : {}),
        ...(ports ? { ports } : {}),
      };
    });
    return {
      name: sname,
      dir: `/proj/${sname}`,
      summary: `suite ${sname}`,
      tasks,
      pos: pos(file),
      where: where(s, file),
      ...common(s, file),
      ...pick(s, ["systems", "backends", ...HOOKS] as const),
    };
  });
  return {
    name: spec.name ?? "proj",
    file,
    dir: "/proj",
    remotePath: spec.path ?? "/home/test",
    flavour: "spread",
    shell: "bash",
    include: spec.include ?? [],
    exclude: spec.exclude ?? [],
    rename: spec.rename ?? [],
    backends,
    suites,
    pos: { file, line: 1, col: 1 },
    where: where(spec, file),
    ...common(spec, file),
    ...pick(spec, HOOKS),
  };
}

/** A one-backend, one-system, one-suite project around the given tasks. */
export function simpleProject(tasks: Record<string, TaskSpec>, extra: Partial<ProjectSpec> = {}): Project {
  return buildProject({
    backends: { lxd: { systems: ["ubuntu-16.04"] } },
    suites: { "tests/": { tasks } },
    ...extra,
  });
}
