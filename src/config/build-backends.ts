// `backends:` and their `systems:` into the model, with Spread's defaults:
// a backend's type is its name, a system's image is its name, workers is 1,
// and a system without its own storage/plan/networks/groups takes the backend's.
//
// troupe's defaults: a project without backends gets `local` (type local) with
// one system `localhost`; a `local` backend without systems gets `localhost`.

import type { Backend, System } from "../model/project.js";
import {
  cascadingOf,
  emptyAt,
  entriesOf,
  fieldPositions,
  hooksOf,
  keyPosAt,
  posAt,
  scalarOrAbsent,
  validateAt,
  type FileCtx,
} from "./entity.js";
import { checkDeltaList } from "./lists.js";
import { NAME_HELP, VALID_NAME, VALID_SYSTEM, VALID_SYSTEM_TROUPE } from "./names.js";
import { backendExtraFields, CASCADED_TO_SYSTEMS, systemExtraFields } from "./schema/extra.js";
import { backendSchema, systemMapSchema, type BackendData, type SystemData } from "./schema/project.js";
import type { YamlPath } from "./yaml-positions.js";

/** Spread's backend types other than adhoc: they have no allocate/discard scripts. */
const SPREAD_MACHINE_TYPES = new Set(["google", "openstack", "linode", "lxd", "qemu", "humbox"]);

export const DEFAULT_BACKEND = "local";
export const DEFAULT_SYSTEM = "localhost";

export function systemRule(ctx: FileCtx): RegExp {
  return ctx.flavour === "spread" ? VALID_SYSTEM : VALID_SYSTEM_TROUPE;
}

export function buildBackends(ctx: FileCtx, backends: Record<string, unknown> | undefined): Backend[] {
  const out: Backend[] = [];
  for (const [name, value] of entriesOf(backends)) {
    // Spread drops a backend written with no value at all.
    if (value === undefined) continue;
    const backend = buildBackend(ctx, name, value);
    if (backend) out.push(backend);
  }
  const declared = entriesOf(backends);
  if (declared.length === 0) out.push(defaultBackend(ctx));
  else if (declared.every(([, value]) => value === undefined)) {
    ctx.problems.add(
      "E_PROJECT",
      keyPosAt(ctx, ["backends"]),
      ["backends"],
      "every backend here is empty; give each one its settings and systems, or remove backends: to use the local backend",
    );
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function defaultBackend(ctx: FileCtx): Backend {
  const pos = { file: ctx.file, line: 1, col: 1 };
  return {
    name: DEFAULT_BACKEND,
    type: "local",
    pos,
    where: {},
    environment: [],
    systems: [defaultSystem(DEFAULT_BACKEND, pos)],
    extra: {},
  };
}

function defaultSystem(backend: string, pos: System["pos"]): System {
  return { name: DEFAULT_SYSTEM, backend, image: DEFAULT_SYSTEM, workers: 1, pos, where: {}, environment: [], extra: {} };
}

function buildBackend(ctx: FileCtx, name: string, value: unknown): Backend | undefined {
  const path = ["backends", name];
  const keyPos = keyPosAt(ctx, path);
  if (!VALID_NAME.test(name)) ctx.problems.add("E_SCHEMA", keyPos, path, `invalid backend name '${name}'; ${NAME_HELP}`);
  const data = validateAt(ctx, backendSchema, value, path);
  if (!data) return undefined;
  const type = data.type?.trim() || name;
  if (type === "adhoc" && !data.allocate && scalarOrAbsent(ctx, [...path, "allocate"])) {
    ctx.problems.add(
      "E_PROJECT",
      keyPos,
      path,
      `backend '${name}' has type adhoc and needs an allocate: script that allocates a host and runs ADDRESS <address>`,
    );
  }
  if (SPREAD_MACHINE_TYPES.has(type) && (data.allocate !== undefined || data.discard !== undefined)) {
    const key = data.allocate !== undefined ? "allocate" : "discard";
    ctx.problems.add(
      "E_PROJECT",
      keyPosAt(ctx, [...path, key]),
      [...path, key],
      `only adhoc backends use allocate: and discard:; remove it or set type: adhoc`,
    );
  }
  const extra = pickExtra(data, Object.keys(backendExtraFields));
  const systems = buildSystems(ctx, path, data, extra);
  if (emptyAt(ctx, [...path, "systems"])) {
    if (type === "local") systems.push(defaultSystem(name, keyPos));
    else {
      ctx.problems.add(
        "E_PROJECT",
        keyPos,
        path,
        `backend '${name}' lists no systems; add systems: with at least one, e.g. systems: [ubuntu-24.04]`,
      );
    }
  }
  return {
    name,
    type,
    key: data.key?.trim(),
    allocate: data.allocate,
    discard: data.discard,
    haltTimeout: data["halt-timeout"],
    ...hooksOf(data),
    ...cascadingOf(ctx, path, data),
    pos: keyPos,
    where: fieldPositions(ctx, path),
    systems,
    extra,
  };
}

function pickExtra(data: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (data[k] !== undefined) out[k] = data[k];
  return out;
}

function buildSystems(ctx: FileCtx, backendPath: YamlPath, data: BackendData, backendExtra: Record<string, unknown>): System[] {
  const out: System[] = [];
  const seen = new Map<string, System>();
  const backend = String(backendPath[1]);
  (data.systems ?? []).forEach((item, i) => {
    const itemPath = [...backendPath, "systems", i];
    let name: string;
    let sysData: SystemData;
    let path: YamlPath;
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      name = String(item);
      sysData = {};
      path = itemPath;
    } else if (item && typeof item === "object" && !Array.isArray(item)) {
      const parsed = validateAt(ctx, systemMapSchema, item, itemPath);
      if (parsed === undefined) return;
      const entries = Object.entries(parsed);
      if (entries.length !== 1) {
        ctx.problems.add(
          "E_SCHEMA",
          posAt(ctx, itemPath),
          itemPath,
          entries.length === 0
            ? "an empty system entry; write `- NAME` or `- NAME: {workers: 2}`"
            : `one list item holds ${entries.length} systems; start each system with its own '- '`,
        );
        return;
      }
      const [entry] = entries;
      if (!entry) return;
      name = entry[0];
      sysData = entry[1] ?? {};
      path = [...itemPath, name];
    } else {
      ctx.problems.add(
        "E_SCHEMA",
        posAt(ctx, itemPath),
        itemPath,
        "a system is a name (`- ubuntu-24.04`) or a name with settings (`- ubuntu-24.04: {workers: 2}`)",
      );
      return;
    }
    const pos = keyPosAt(ctx, path);
    if (!systemRule(ctx).test(name)) {
      ctx.problems.add("E_SCHEMA", pos, itemPath, `invalid system name '${name}'; ${systemNameHelp(ctx)}`);
    }
    const system = buildSystem(ctx, backend, name, sysData, path, pos, backendExtra);
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      const message = `system '${name}' is listed twice in backend '${backend}' (first at line ${earlier.pos.line})`;
      if (ctx.flavour === "spread") {
        // Spread keeps the last definition.
        ctx.problems.warn(pos, itemPath, `${message}; the last one is used, as in Spread`);
        out[out.indexOf(earlier)] = system;
        seen.set(name, system);
      } else {
        ctx.problems.add("E_PROJECT", pos, itemPath, `${message}; keep one`);
      }
      return;
    }
    seen.set(name, system);
    out.push(system);
  });
  return out;
}

function systemNameHelp(ctx: FileCtx): string {
  return ctx.flavour === "spread"
    ? "Spread system names look like ubuntu-24.04 or fedora-40 (lowercase, with a '-'; '*' in patterns)"
    : "use lowercase letters and digits separated by '-', '.' or '_' (e.g. ubuntu-24.04, localhost; '*' in patterns)";
}

function buildSystem(
  ctx: FileCtx,
  backend: string,
  name: string,
  data: SystemData,
  path: YamlPath,
  pos: System["pos"],
  backendExtra: Record<string, unknown>,
): System {
  const extra = pickExtra(data, Object.keys(systemExtraFields));
  for (const key of CASCADED_TO_SYSTEMS) {
    const own = extra[key];
    const empty = own === undefined || (Array.isArray(own) && own.length === 0);
    if (empty && backendExtra[key] !== undefined) extra[key] = backendExtra[key];
  }
  return {
    name,
    backend,
    image: data.image?.trim() || name,
    // Spread: 0 (or unset) workers means 1.
    workers: data.workers && data.workers > 0 ? data.workers : 1,
    username: data.username,
    password: data.password,
    ...cascadingOf(ctx, path, data),
    pos,
    where: fieldPositions(ctx, path),
    extra,
  };
}

export function checkSystemList(ctx: FileCtx, path: YamlPath, items: readonly string[] | undefined): void {
  const rule = { rule: systemRule(ctx), help: systemNameHelp(ctx) };
  checkDeltaList("systems", items, { file: ctx.file, root: ctx.root, path }, ctx.problems, rule);
}
