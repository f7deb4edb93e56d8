// The project-file keys the ssh and adhoc backends read, from `Backend.extra`
// and `System.extra` (config/ keeps keys that are not Spread's there):
//
//   backends:
//     fleet:
//       type: ssh
//       inventory: hosts.ini          # Ansible inventory (INI or YAML), relative to the project
//       ssh-options: [ProxyJump=bastion]   # extra `ssh -o` options for every host
//       systems:
//         - web:                      # hosts of inventory group `web` (the system's name)
//         - db:
//             group: databases        # ... or of another group
//         - edge:
//             hosts: [admin@edge[01-04].example.com, 10.0.0.9:2222]
//             username: admin         # for hosts written without user@ (Spread's field)
//             password: secret        # through SSH_ASKPASS, never sshpass (Spread's field)
//             sudo: false             # run as that user; default: sudo -n when not root
//             identity-file: ~/.ssh/ci_ed25519
//
// A system's hosts come from `hosts:` if given, else from the inventory
// (`inventory:` of the system, else of the backend) group named by `group:`
// (default the system's name), else the system's name itself is the one host
// (so a Host alias of ~/.ssh/config works as a system). Each host is one
// worker: `workers:` defaults to the number of hosts and may only lower it.
//
// The adhoc backend reads `sudo`, `identity-file` and `ssh-options` too.

import { resolve } from "node:path";
import { homedir } from "node:os";
import type { SourcePos } from "../../model/position.js";
import type { Backend, System } from "../../model/project.js";
import { TroupeError } from "../../util/errors.js";

export const SSH_BACKEND_KEYS = ["inventory", "ssh-options"] as const;
export const SSH_SYSTEM_KEYS = ["hosts", "inventory", "group", "sudo", "identity-file", "ssh-options"] as const;

/** What the user wrote, checked for type, with where it was written. */
export interface SshSystemConfig {
  /** Host specs (`[user@]host[:port]`, hostlists allowed), as written. */
  readonly hosts?: readonly string[];
  /** Absolute path of the inventory file, if any. */
  readonly inventory?: string;
  readonly inventoryPos?: SourcePos;
  /** The inventory group; the system's name by default. */
  readonly group: string;
  /** true: always sudo; false: never; undefined: when the remote user is not root. */
  readonly sudo?: boolean;
  readonly identityFile?: string;
  /** `-o` values (`Key=Value`), the backend's then the system's. */
  readonly sshOptions: readonly string[];
  readonly pos: SourcePos;
}

export function sshSystemConfig(backend: Backend, system: System, projectDir: string): SshSystemConfig {
  const sys = reader(system.extra, system.where, system.pos, `backends.${backend.name}.systems.${system.name}`);
  const back = reader(backend.extra, backend.where, backend.pos, `backends.${backend.name}`);
  const problems: TroupeError[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof TroupeError) {
        problems.push(e);
        return undefined;
      }
      throw e;
    }
  };
  const hosts = attempt(() => sys.stringList("hosts"));
  const sysInv = attempt(() => sys.string("inventory"));
  const backInv = attempt(() => back.string("inventory"));
  const group = attempt(() => sys.string("group"));
  const sudo = attempt(() => sys.boolean("sudo"));
  const identity = attempt(() => sys.string("identity-file"));
  const opts = [...(attempt(() => back.stringList("ssh-options")) ?? []), ...(attempt(() => sys.stringList("ssh-options")) ?? [])];
  for (const o of opts) {
    if (!/^[A-Za-z][A-Za-z0-9]*\s*[= ]\s*\S/.test(o)) {
      problems.push(
        new TroupeError("E_SCHEMA", {
          pos: system.where["ssh-options"] ?? backend.where["ssh-options"] ?? system.pos,
          message: `ssh-options: '${o}' is not an ssh option like ProxyJump=bastion`,
        }),
      );
    }
  }
  if (hosts !== undefined && hosts.length === 0) {
    problems.push(
      new TroupeError("E_SCHEMA", {
        pos: system.where["hosts"] ?? system.pos,
        path: `${sys.path}.hosts`,
        message: "hosts: is empty; list at least one host, or remove it",
      }),
    );
  }
  if (problems.length > 0)
    throw new TroupeError(
      "E_SCHEMA",
      problems.flatMap((p) => p.problems),
    );
  const inventory = sysInv ?? backInv;
  const inventoryPos = sysInv !== undefined ? system.where["inventory"] : backend.where["inventory"];
  const out: {
    -readonly [K in keyof SshSystemConfig]: SshSystemConfig[K];
  } = { group: group ?? system.name, sshOptions: opts, pos: system.pos };
  if (hosts !== undefined) out.hosts = hosts;
  if (inventory !== undefined) out.inventory = resolve(projectDir, expandHome(inventory));
  if (inventoryPos !== undefined) out.inventoryPos = inventoryPos;
  if (sudo !== undefined) out.sudo = sudo;
  if (identity !== undefined) out.identityFile = resolve(projectDir, expandHome(identity));
  return out;
}

export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return `${homedir()}${path.slice(1)}`;
  return path;
}

function reader(extra: Readonly<Record<string, unknown>>, where: Readonly<Record<string, SourcePos>>, fallback: SourcePos, path: string) {
  const fail = (key: string, what: string): TroupeError =>
    new TroupeError("E_SCHEMA", { pos: where[key] ?? fallback, path: `${path}.${key}`, message: what });
  return {
    path,
    string(key: string): string | undefined {
      const v = extra[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "string" || v.trim() === "") throw fail(key, `${key} must be a non-empty string`);
      return v.trim();
    },
    boolean(key: string): boolean | undefined {
      const v = extra[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "boolean") throw fail(key, `${key} must be true or false`);
      return v;
    },
    stringList(key: string): string[] | undefined {
      const v = extra[key];
      if (v === undefined || v === null) return undefined;
      const list = typeof v === "string" ? [v] : v;
      if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x.trim() === "")) {
        throw fail(key, `${key} must be a string or a list of strings`);
      }
      return list.map((x: string) => x.trim());
    },
  };
}
