// One task.yaml into a Task: Spread's fields plus troupe's multi-host `hosts:`
// and per-role scripts (`execute/server`, `prepare/client`, ...).

import type { HostRole, PortSpec, Task } from "../model/project.js";
import { checkSystemList } from "./build-backends.js";
import {
  cascadingOf,
  entriesOf,
  fieldPositions,
  keyPosAt,
  posAt,
  scalarOrAbsent,
  validateAt,
  type FileCtx,
  type Flavour,
} from "./entity.js";
import { checkDuplicateKeys } from "./duplicates.js";
import { checkDeltaList } from "./lists.js";
import { NAME_HELP, ROLE_SCRIPT_KEY, VALID_PORT, VALID_ROLE, VALID_TASK } from "./names.js";
import { closestWord } from "./suggest.js";
import type { Problems } from "./problems.js";
import { hostRoleSchema, roleScriptSchema, taskTopSchema, type TaskData } from "./schema/task.js";
import { parseYaml, toPlain } from "./yaml-positions.js";

export interface TaskSource {
  /** The suite's name, with its trailing slash. */
  readonly suite: string;
  /** The task directory's name inside the suite. */
  readonly dirName: string;
  /** Absolute path of the task directory. */
  readonly dir: string;
  /** task.yaml as shown in problems. */
  readonly shownFile: string;
  /** Absolute path of task.yaml. */
  readonly file: string;
}

/** A task from its task.yaml's text. */
export function loadTask(src: TaskSource, text: string, flavour: Flavour, problems: Problems): Task | undefined {
  const parsed = parseYaml(text, src.shownFile);
  if (parsed.problems.length > 0 && parsed.root === undefined) {
    problems.addAll("E_YAML", parsed.problems);
    return undefined;
  }
  problems.addAll("E_SCHEMA", parsed.problems);
  const ctx: FileCtx = { file: src.shownFile, root: parsed.root, flavour, problems };
  checkDuplicateKeys(ctx);
  return buildTask(ctx, src);
}

function buildTask(ctx: FileCtx, src: TaskSource): Task | undefined {
  const filePos = { file: ctx.file, line: 1, col: 1 };
  const name = src.suite + src.dirName;
  if (!VALID_TASK.test(name)) {
    ctx.problems.add("E_SCHEMA", filePos, undefined, `invalid task name '${name}' (from its directory's name); ${NAME_HELP}`);
  }
  const plain = toPlain(ctx.root) ?? {};
  const { rest, roleScripts } = splitRoleScripts(plain);
  const data = validateAt(ctx, taskTopSchema, rest, []);
  const scripts = readRoleScripts(ctx, roleScripts);
  if (!data) return undefined;
  if (!data.summary?.trim() && scalarOrAbsent(ctx, ["summary"])) {
    ctx.problems.add("E_SCHEMA", filePos, undefined, "missing summary:; describe what the task checks in one line");
  }
  checkArtifacts(ctx, data.artifacts);
  checkSystemList(ctx, ["systems"], data.systems);
  checkDeltaList("backends", data.backends, { file: ctx.file, root: ctx.root, path: ["backends"] }, ctx.problems);
  const hosts = buildHosts(ctx, data);
  checkRoleScripts(ctx, scripts, hosts);
  const ports = buildPorts(ctx, data.ports, hosts);
  return {
    name,
    suite: src.suite,
    dir: src.dir,
    summary: data.summary?.trim(),
    details: data.details?.trim(),
    systems: data.systems,
    backends: data.backends,
    // Spread: no samples (or 0) means one.
    samples: data.samples && data.samples > 0 ? data.samples : 1,
    prepare: data.prepare,
    restore: data.restore,
    execute: data.execute,
    debug: data.debug,
    roleScripts: groupRoleScripts(scripts),
    artifacts: data.artifacts ?? [],
    ...(hosts ? { hosts } : {}),
    ...(ports ? { ports } : {}),
    ...cascadingOf(ctx, [], data),
    pos: filePos,
    where: fieldPositions(ctx, []),
  };
}

interface RoleScript {
  readonly key: string;
  readonly hook: string;
  readonly role: string;
  readonly script: string;
}

function splitRoleScripts(plain: unknown): { rest: unknown; roleScripts: [string, unknown][] } {
  if (!plain || typeof plain !== "object" || Array.isArray(plain)) return { rest: plain, roleScripts: [] };
  const rest: Record<string, unknown> = {};
  const roleScripts: [string, unknown][] = [];
  for (const [key, value] of Object.entries(plain)) {
    if (ROLE_SCRIPT_KEY.test(key)) roleScripts.push([key, value]);
    else Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { rest, roleScripts };
}

function readRoleScripts(ctx: FileCtx, entries: [string, unknown][]): RoleScript[] {
  const out: RoleScript[] = [];
  for (const [key, value] of entries) {
    const m = ROLE_SCRIPT_KEY.exec(key);
    if (!m) continue;
    const [, hook = "", role = ""] = m;
    if (!VALID_ROLE.test(role)) {
      ctx.problems.add(
        "E_SCHEMA",
        keyPosAt(ctx, [key]),
        [key],
        `invalid role name '${role}'; roles are lowercase words such as server, client or db-primary`,
      );
      continue;
    }
    const script = value === undefined ? "" : validateAt(ctx, roleScriptSchema, value, [key]);
    if (script === undefined) continue;
    out.push({ key, hook, role, script });
  }
  return out;
}

function buildHosts(ctx: FileCtx, data: TaskData): HostRole[] | undefined {
  if (data.hosts === undefined) return undefined;
  const roles: HostRole[] = [];
  for (const [role, value] of entriesOf(data.hosts)) {
    const pos = keyPosAt(ctx, ["hosts", role]);
    if (!VALID_ROLE.test(role)) {
      ctx.problems.add(
        "E_SCHEMA",
        pos,
        ["hosts", role],
        `invalid role name '${role}'; roles are lowercase words such as server, client or db-primary`,
      );
      continue;
    }
    const spec = validateAt(ctx, hostRoleSchema, value ?? {}, ["hosts", role]);
    const system = spec?.system?.trim();
    // A role with a bad count or system is still a role: its scripts are not "for an unknown role".
    roles.push({ name: role, count: spec?.count ?? 1, ...(system ? { system } : {}), pos });
  }
  if (roles.length === 0 && entriesOf(data.hosts).length === 0) {
    ctx.problems.add(
      "E_SCHEMA",
      posAt(ctx, ["hosts"]),
      ["hosts"],
      "hosts: lists no roles; name each role with its count, e.g. hosts: {server: {}, client: {count: 2}}",
    );
  }
  return roles;
}

function checkRoleScripts(ctx: FileCtx, scripts: readonly RoleScript[], hosts: readonly HostRole[] | undefined): void {
  const roles = new Set((hosts ?? []).map((r) => r.name));
  for (const s of scripts) {
    if (roles.has(s.role)) continue;
    const known = hosts && hosts.length > 0 ? `hosts: lists ${[...roles].join(", ")}` : "this task has no hosts: section";
    ctx.problems.add(
      "E_PROJECT",
      keyPosAt(ctx, [s.key]),
      [s.key],
      `'${s.key}' is a script for role '${s.role}', but ${known}; add ${s.role} to hosts: or fix the key`,
    );
  }
}

const PORTS_SHAPE =
  "write a list of port names (ports: [http], free on every host of the job) " +
  "or a map of role or host to port names (ports: {server: [http, admin]})";

/**
 * `ports:`: a list of names, or role-or-host -> name or list of names. Each
 * name once; a map's keys must be roles or hosts (`client-2`) of `hosts:`.
 */
function buildPorts(ctx: FileCtx, value: unknown, hosts: readonly HostRole[] | undefined): PortSpec[] | undefined {
  if (value === undefined || value === null) return undefined;
  const out: PortSpec[] = [];
  const seen = new Map<string, string>();
  const add = (name: unknown, path: (string | number)[], on?: string): void => {
    const pos = posAt(ctx, path);
    if (typeof name !== "string" && typeof name !== "number") {
      ctx.problems.add("E_SCHEMA", pos, path, `expected a port name such as http here; ${PORTS_SHAPE}`);
      return;
    }
    const n = String(name);
    if (!VALID_PORT.test(n)) {
      ctx.problems.add("E_SCHEMA", pos, path, `invalid port name '${n}'; port names are lowercase words such as http, admin or db-primary`);
      return;
    }
    // http-api and http_api would both be TROUPE_PORT_HTTP_API.
    const key = n.replace(/-/g, "_");
    const before = seen.get(key);
    if (before !== undefined) {
      const why =
        before === n ? `port '${n}' is listed twice` : `ports '${before}' and '${n}' would both be TROUPE_PORT_${key.toUpperCase()}`;
      ctx.problems.add("E_PROJECT", pos, path, `${why}; give each port of the job its own name`);
      return;
    }
    seen.set(key, n);
    out.push({ name: n, ...(on !== undefined ? { on } : {}), pos });
  };

  if (Array.isArray(value)) {
    value.forEach((v, i) => add(v, ["ports", i]));
    return out;
  }
  if (typeof value !== "object") {
    ctx.problems.add("E_SCHEMA", posAt(ctx, ["ports"]), ["ports"], `expected a list or a map; ${PORTS_SHAPE}`);
    return undefined;
  }
  const entries = entriesOf(value);
  if (entries.length > 0 && (!hosts || hosts.length === 0)) {
    ctx.problems.add(
      "E_PROJECT",
      keyPosAt(ctx, ["ports"]),
      ["ports"],
      "a map of roles to port names, but this task has no hosts: section; list the names instead, e.g. ports: [http]",
    );
    return undefined;
  }
  const targets = hostNames(hosts ?? []);
  for (const [on, v] of entries) {
    if (!targets.includes(on)) {
      const guess = closestWord(on, targets);
      const roles = (hosts ?? []).map((r) => r.name);
      const names = (hosts ?? []).flatMap((r) =>
        r.count > 1 ? Array.from({ length: r.count }, (_, i) => `${r.name}-${i + 1}`) : [r.name],
      );
      ctx.problems.add(
        "E_PROJECT",
        keyPosAt(ctx, ["ports", on]),
        ["ports", on],
        `'${on}' is not a role or host of this task (roles: ${roles.join(", ")}; hosts: ${names.join(", ")})` +
          (guess ? `; did you mean '${guess}'?` : ""),
      );
      continue;
    }
    if (Array.isArray(v)) v.forEach((name, i) => add(name, ["ports", on, i], on));
    else add(v, ["ports", on], on);
  }
  return out;
}

/** Roles and the names of their hosts: `server`, `client`, `client-1`, `client-2`. */
function hostNames(roles: readonly HostRole[]): string[] {
  const out: string[] = [];
  for (const r of roles) {
    out.push(r.name);
    if (r.count > 1) for (let i = 1; i <= r.count; i++) out.push(`${r.name}-${i}`);
  }
  return out;
}

function groupRoleScripts(scripts: readonly RoleScript[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of scripts) (out[s.hook] ??= {})[s.role] = s.script;
  return out;
}

function checkArtifacts(ctx: FileCtx, artifacts: readonly string[] | undefined): void {
  (artifacts ?? []).forEach((a, i) => {
    if (isProperArtifact(a)) return;
    ctx.problems.add(
      "E_SCHEMA",
      posAt(ctx, ["artifacts", i]),
      ["artifacts", i],
      `improper artifact path '${a}'; write a clean path relative to the task directory (no leading /, no '..', '.' or '//', no trailing /)`,
    );
  });
}

/** Spread's rule: relative, already clean (as Go's filepath.Clean leaves it), not escaping the task directory. */
function isProperArtifact(path: string): boolean {
  if (path === "" || path.startsWith("/")) return false;
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}
