// The project-wide values Spread evaluates on the orchestrator once the jobs
// are known (the tail of Project.Jobs in spread/project.go):
//
// - the project environment, for scripts that run outside any job (repack),
//   with `$(HOST:cmd)` replaced, variant keys dropped and SPREAD_BACKENDS set
//   to the selected jobs' backends;
// - each backend's `key` (`$(HOST:cmd)` replaced, trimmed);
// - each system's `username`, and its `password` when it is nothing but one
//   variable reference, with `$VAR`, `${VAR}` and `$(HOST:cmd)` expanded from
//   the project and backend environments;
// - `include`, `exclude` and `rename`, expanded the same way from the project
//   environment.

import type { EnvVar, Job } from "../model/job.js";
import type { Project } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { OrderedEnv } from "./environment.js";
import { compareBytes } from "../util/code-unit-order.js";
import { HostCommandCache } from "./host-commands.js";
import { describe, resolveRemotePath, type PlanOptions } from "./plan-jobs.js";

export interface ResolvedSettings {
  readonly remotePath: string;
  readonly environment: readonly EnvVar[];
  /** By backend name. */
  readonly backends: Readonly<Record<string, { readonly key: string }>>;
  /** By `backend:system`; absent fields were not set. */
  readonly systems: Readonly<Record<string, { readonly username?: string; readonly password?: string }>>;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly rename: readonly string[];
}

const VAR_REF = /\$(?:\(HOST:.+?\)|[a-zA-Z_][a-zA-Z0-9_]*|\{[a-zA-Z_][a-zA-Z0-9_]*\})/g;
const WHOLE_VAR_REF = /^\$(?:\(HOST:.+?\)|[a-zA-Z_][a-zA-Z0-9_]*|\{[a-zA-Z_][a-zA-Z0-9_]*\})/;

interface Level {
  readonly context: string;
  readonly entries: readonly { readonly key: string; readonly value: string; readonly pos?: SourcePos }[];
}

/** Evaluate levels in order; `hostOnly` replaces only `$(HOST:cmd)`, otherwise also `$VAR` from earlier keys. */
function evalLevels(cache: HostCommandCache, hostOnly: boolean, levels: readonly Level[]): OrderedEnv {
  const result = new OrderedEnv();
  for (const level of levels) {
    for (const e of level.entries) {
      const where = `${level.context} environment`;
      const value = hostOnly
        ? cache.expand(e.value, where, e.pos)
        : e.value.replace(VAR_REF, (ref) =>
            ref.startsWith("$(") ? cache.expand(ref, where, e.pos) : result.get(ref.replace(/^\$\{?|\}$/g, "")),
          );
      result.set(e.key, value);
    }
  }
  return result;
}

function evalOne(cache: HostCommandCache, context: string, value: string, levels: readonly Level[], pos?: SourcePos): string {
  const key = "SPREAD_INTERNAL_EVAL";
  const env = evalLevels(cache, false, [...levels, { context, entries: [{ key, value, ...(pos ? { pos } : {}) }] }]);
  return env.get(key);
}

export function resolveSettings(
  project: Project,
  jobs: readonly Pick<Job, "backend">[],
  options: Pick<PlanOptions, "hostCommand" | "hostCache"> = {},
): ResolvedSettings {
  const cache = new HostCommandCache(options.hostCommand, options.hostCache);
  const remotePath = resolveRemotePath(project, cache);
  const penv: Level = { context: describe.project(), entries: project.environment };

  const env = evalLevels(cache, true, [penv]).variant("");
  const used = [...new Set(jobs.map((j) => j.backend.name))].sort(compareBytes);
  env.set("SPREAD_BACKENDS", used.join(" "));

  const backends: Record<string, { key: string }> = {};
  const systems: Record<string, { username?: string; password?: string }> = {};
  for (const backend of project.backends) {
    const benv: Level = { context: describe.backend(backend), entries: backend.environment };
    const key = backend.key ? cache.expand(backend.key, `${backend.name} backend key`, backend.where["key"] ?? backend.pos) : "";
    backends[backend.name] = { key: key.trim() };
    for (const system of backend.systems) {
      const out: { username?: string; password?: string } = {};
      if (system.username) {
        out.username = evalOne(cache, `${describe.system(system)} username`, system.username, [penv, benv]);
      }
      if (system.password) {
        // Passwords often hold `$`, so only a value that is one reference is expanded.
        const m = WHOLE_VAR_REF.exec(system.password);
        out.password =
          m && m[0] === system.password
            ? evalOne(cache, `${describe.system(system)} password`, system.password, [penv, benv])
            : system.password;
      }
      systems[`${backend.name}:${system.name}`] = out;
    }
  }

  const expandAll = (what: string, values: readonly string[]) => values.map((v) => evalOne(cache, what, v, [penv]));
  return {
    remotePath,
    environment: env.entries(),
    backends,
    systems,
    include: expandAll("include list", project.include),
    exclude: expandAll("exclude list", project.exclude),
    rename: expandAll("rename expression", project.rename),
  };
}
