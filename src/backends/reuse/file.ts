// The reuse file: which hosts are kept for later runs. Pure: text in,
// entries out, and back. The shape is Spread's (.spread-reuse.yaml,
// spread/reuse.go), so that troupe reads Spread's files as they are:
//
//   backends:
//     lab:
//       systems:
//         - debian-lab:
//             name: debian-lab-1     # troupe's own field: the host's name
//             address: 10.213.0.5
//             username: admin        # Spread's fields, when there are any
//             password: secret
//             data: {slot: 5, ...}   # what the backend needs to take it back

import { stringify } from "yaml";
import { parseYaml, toPlain, type LNode } from "../../config/yaml-positions.js";
import { TroupeError, type Problem } from "../../util/errors.js";
import type { RecordedHost } from "../backend.js";

export const TROUPE_REUSE_FILE = ".troupe-reuse.yaml";
export const SPREAD_REUSE_FILE = ".spread-reuse.yaml";

/** `.troupe-reuse.yaml`, or `.troupe-reuse.PID.yaml` for the hosts of run PID. */
export function reuseFileName(pid?: number): string {
  return pid === undefined ? TROUPE_REUSE_FILE : `.troupe-reuse.${pid}.yaml`;
}

/** Spread's name for the same file. */
export function spreadReuseFileName(pid?: number): string {
  return pid === undefined ? SPREAD_REUSE_FILE : `.spread-reuse.${pid}.yaml`;
}

/** An entry as read, before it has a name (Spread's entries have none). */
export type ReadHost = Omit<RecordedHost, "name"> & { readonly name?: string };

const WHAT_TO_DO = "fix it, or remove the file to forget the hosts it records (troupe then no longer discards them)";

/** Parse a reuse file; a file troupe cannot read is an E_YAML/E_SCHEMA error with its position. */
export function parseReuseFile(text: string, file: string): ReadHost[] {
  const parsed = parseYaml(text, file);
  if (parsed.problems.length > 0) {
    throw new TroupeError(
      "E_YAML",
      parsed.problems.map((p) => ({ ...p, message: `${p.message}; ${WHAT_TO_DO}` })),
    );
  }
  const problems: Problem[] = [];
  const out: ReadHost[] = [];
  const bad = (node: { pos: Problem["pos"] }, path: string, message: string): void => {
    problems.push({ ...(node.pos ? { pos: node.pos } : {}), path, message: `${message}; ${WHAT_TO_DO}` });
  };
  const root = parsed.root;
  if (root === undefined || isNull(root)) return [];
  if (root.kind !== "map") {
    bad(root, "", "a reuse file is a map with a `backends:` key");
    throw new TroupeError("E_SCHEMA", problems);
  }
  const backends = root.entries.find((e) => e.key === "backends")?.value;
  if (backends === undefined || isNull(backends)) return [];
  if (backends.kind !== "map") {
    bad(backends, "backends", "must be a map of backend names");
    throw new TroupeError("E_SCHEMA", problems);
  }
  for (const b of backends.entries) {
    const bpath = `backends.${b.key}`;
    if (isNull(b.value)) continue;
    if (b.value.kind !== "map") {
      bad(b.value, bpath, "must be a map with a `systems:` list");
      continue;
    }
    const systems = b.value.entries.find((e) => e.key === "systems")?.value;
    if (systems === undefined || isNull(systems)) continue;
    if (systems.kind !== "seq") {
      bad(systems, `${bpath}.systems`, "must be a list of `- SYSTEM: {address: ...}` items");
      continue;
    }
    systems.items.forEach((item, i) => {
      const ipath = `${bpath}.systems[${i}]`;
      if (item.kind !== "map" || item.entries.length !== 1) {
        bad(item, ipath, "must name one system: `- SYSTEM: {address: ...}`");
        return;
      }
      const { key: system, value } = item.entries[0]!;
      const spath = `${ipath}.${system}`;
      if (value.kind !== "map") {
        bad(value, spath, "must be a map with an `address:`");
        return;
      }
      const field = (name: string): LNode | undefined => {
        const v = value.entries.find((e) => e.key === name)?.value;
        return v === undefined || isNull(v) ? undefined : v;
      };
      const text = (name: string): string | undefined => {
        const v = field(name);
        if (v === undefined) return undefined;
        if (v.kind !== "scalar") {
          bad(v, `${spath}.${name}`, "must be text");
          return undefined;
        }
        return v.text;
      };
      const address = text("address");
      if (address === undefined || address === "") {
        if (field("address") === undefined) bad(value, spath, "has no `address:`");
        return;
      }
      const name = text("name");
      const type = text("type");
      const username = text("username");
      const password = text("password");
      const dataNode = field("data");
      let data: Record<string, unknown> | undefined;
      if (dataNode !== undefined) {
        const plain = toPlain(dataNode);
        // Spread's providers may keep any value there; troupe's backends keep a map.
        data = plain !== null && typeof plain === "object" && !Array.isArray(plain) ? (plain as Record<string, unknown>) : { value: plain };
      }
      out.push({
        backend: b.key,
        system,
        address,
        ...(name ? { name } : {}),
        ...(type ? { type } : {}),
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        ...(data ? { data } : {}),
      });
    });
  }
  if (problems.length > 0) throw new TroupeError("E_SCHEMA", problems);
  return out;
}

function isNull(node: LNode): boolean {
  return node.kind === "scalar" && node.value === null;
}

const HEADER = [
  "# Hosts kept by `troupe run --reuse` for the next runs; `troupe run --discard`",
  "# discards them. Written by troupe: see docs/running.md#reusing-hosts.",
  "",
].join("\n");

/** The file's text for `hosts`, in their order, grouped by backend as Spread groups them. */
export function formatReuseFile(hosts: readonly RecordedHost[]): string {
  const backends: Record<string, { systems: Record<string, Record<string, unknown>>[] }> = {};
  for (const h of hosts) {
    const b = (backends[h.backend] ??= { systems: [] });
    b.systems.push({
      [h.system]: {
        name: h.name,
        ...(h.type !== undefined ? { type: h.type } : {}),
        address: h.address,
        ...(h.username !== undefined ? { username: h.username } : {}),
        ...(h.password !== undefined ? { password: h.password } : {}),
        ...(h.data !== undefined && Object.keys(h.data).length > 0 ? { data: h.data } : {}),
      },
    });
  }
  // YAML 1.1, as the file is read: text such as `yes` or `0123` gets quoted.
  return HEADER + stringify({ backends }, { version: "1.1", lineWidth: 0 });
}
