// Which machines an ssh system stands for: host specs (`[user@]host[:port]`,
// with pdsh-style hostlists) or an Ansible inventory group, resolved into one
// target per host. Pure, apart from reading the inventory file.

import { readFileSync } from "node:fs";
import type { SourcePos } from "../../model/position.js";
import { TroupeError } from "../../util/errors.js";
import { expandHostlist } from "../../util/hostlist.js";
import { connectionOf, formatFor, groupHosts, parseInventory, type Inventory } from "../inventory/index.js";
import type { SshSystemConfig } from "./config.js";

export interface SshTarget {
  /** The host's name in the run: the host as written (`host:port` when a port was written), or the inventory name. */
  readonly name: string;
  /** What ssh connects to: a name from ssh_config, a DNS name or an IP address. */
  readonly address: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly identityFile?: string;
}

export interface HostSpec {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

/** Parse `[user@]host[:port]`; IPv6 as `[::1]` or `[::1]:2222` (or bare, without a port). */
export function parseHostSpec(spec: string): HostSpec {
  const at = spec.lastIndexOf("@");
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  const rest = at >= 0 ? spec.slice(at + 1) : spec;
  if (user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(user)) throw specError(spec, `'${user}' is not a user name`);
  let host = rest;
  let portText: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.%]+)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1] ?? "";
    portText = v6[2];
  } else if ((rest.match(/:/g)?.length ?? 0) === 1) {
    const i = rest.indexOf(":");
    host = rest.slice(0, i);
    portText = rest.slice(i + 1);
  } else if ((rest.match(/:/g)?.length ?? 0) > 1 && !/^[0-9A-Fa-f:.%]+$/.test(rest)) {
    throw specError(spec, "write an IPv6 address with a port as [addr]:port");
  }
  if (host === "") throw specError(spec, "the host is missing");
  if (/[\s/\\'"`$;&|<>()]/.test(host)) throw specError(spec, `'${host}' is not a host name or address`);
  const out: { user?: string; host: string; port?: number } = { host };
  if (user !== undefined) out.user = user;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw specError(spec, `'${portText}' is not a port number (1-65535)`);
    out.port = port;
  }
  return out;
}

function specError(spec: string, what: string): TroupeError {
  return new TroupeError("E_SCHEMA", `bad host '${spec}': ${what}; write [user@]host[:port], e.g. admin@node[01-04].lan:2222`);
}

/** Expand host specs (hostlists allowed) into targets. A bracketed IPv6 address is not a hostlist. */
export function targetsFromSpecs(
  specs: readonly string[],
  defaults: { user?: string; password?: string; identityFile?: string },
): SshTarget[] {
  const out: SshTarget[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const isV6 = /(^|@)\[[0-9A-Fa-f:.%]*:[0-9A-Fa-f:.%]*\](:\d+)?$/.test(spec);
    const items = isV6 ? [spec] : expandHostlist(spec);
    for (const item of items) {
      const { user, host, port } = parseHostSpec(item);
      const name = port === undefined ? host : `${host.includes(":") ? `[${host}]` : host}:${port}`;
      if (seen.has(name)) continue;
      seen.add(name);
      const t: { -readonly [K in keyof SshTarget]: SshTarget[K] } = { name, address: host };
      if (port !== undefined) t.port = port;
      const u = user ?? defaults.user;
      if (u !== undefined) t.user = u;
      if (defaults.password !== undefined) t.password = defaults.password;
      if (defaults.identityFile !== undefined) t.identityFile = defaults.identityFile;
      out.push(t);
    }
  }
  return out;
}

/** Targets of an inventory group; inventory variables win over the system's defaults. */
export function targetsFromInventory(
  inv: Inventory,
  group: string,
  defaults: { user?: string; password?: string; identityFile?: string },
  pos?: SourcePos,
): SshTarget[] {
  const hosts = groupHosts(inv, group);
  if (hosts === undefined) {
    const known = [...inv.groups.keys()].filter((g) => g !== "ungrouped").join(", ");
    throw new TroupeError("E_PROJECT", {
      ...(pos ? { pos } : {}),
      message: `inventory ${inv.source} has no group '${group}' (groups: ${known}); name the system after a group or set group:`,
    });
  }
  if (hosts.length === 0) {
    throw new TroupeError("E_PROJECT", { ...(pos ? { pos } : {}), message: `group '${group}' of inventory ${inv.source} has no hosts` });
  }
  return hosts.map((h) => {
    const c = connectionOf(h);
    const t: { -readonly [K in keyof SshTarget]: SshTarget[K] } = { name: h.name, address: c.address };
    if (c.port !== undefined) t.port = c.port;
    const user = c.user ?? defaults.user;
    if (user !== undefined) t.user = user;
    const password = c.password ?? defaults.password;
    if (password !== undefined) t.password = password;
    const key = c.identityFile ?? defaults.identityFile;
    if (key !== undefined) t.identityFile = key;
    return t;
  });
}

/** Read an inventory synchronously (drivers are made synchronously; inventories are small). */
export function readInventorySync(path: string, pos?: SourcePos): Inventory {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TroupeError("E_PROJECT", {
      ...(pos ? { pos } : {}),
      message: `cannot read inventory ${path}: ${code === "ENOENT" ? "no such file" : String(e)}`,
    });
  }
  return parseInventory(text, formatFor(path, text), path);
}

/** Every target of a system, from its config (see config.ts for the rules). */
export function resolveTargets(
  cfg: SshSystemConfig,
  systemName: string,
  defaults: { user?: string; password?: string },
  inventories: Map<string, Inventory> = new Map(),
): SshTarget[] {
  const d = { ...defaults, ...(cfg.identityFile !== undefined ? { identityFile: cfg.identityFile } : {}) };
  try {
    if (cfg.hosts) return targetsFromSpecs(cfg.hosts, d);
    if (cfg.inventory) {
      let inv = inventories.get(cfg.inventory);
      if (!inv) {
        inv = readInventorySync(cfg.inventory, cfg.inventoryPos);
        inventories.set(cfg.inventory, inv);
      }
      return targetsFromInventory(inv, cfg.group, d, cfg.inventoryPos ?? cfg.pos);
    }
    return targetsFromSpecs([systemName], d);
  } catch (e) {
    if (e instanceof TroupeError && e.problems.every((p) => p.pos === undefined)) {
      throw new TroupeError(
        e.code === "E_USAGE" ? "E_SCHEMA" : e.code,
        e.problems.map((p) => ({ ...p, pos: cfg.pos })),
      );
    }
    throw e;
  }
}
