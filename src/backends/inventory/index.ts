// Ansible inventories (INI or YAML) for the ssh backend and `troupe exec`.

import { extname } from "node:path";
import { readInput } from "../../config/read-input.js";
import { inputTooLarge } from "../../config/input-size.js";
import { isTroupeError, TroupeError } from "../../util/errors.js";
import { parseIniInventory } from "./ini.js";
import type { Inventory, InventoryHost } from "./model.js";
import type { parseYamlInventory } from "./yaml.js";

export { groupHosts, type Inventory, type InventoryGroup, type InventoryHost, type Vars } from "./model.js";
export { expandAnsiblePattern } from "./pattern.js";

export type InventoryFormat = "ini" | "yaml";

/**
 * The YAML reader, loaded by `loadYamlInventories()` (or by the ssh backend,
 * which needs it at once): the YAML parser costs 30-40 ms to load, which
 * `troupe exec` on a hostlist or an INI inventory need not pay.
 */
let yamlReader: typeof parseYamlInventory | undefined;

/** Load what YAML inventories need; parseInventory then reads them synchronously. */
export async function loadYamlInventories(): Promise<void> {
  yamlReader ??= (await import("./yaml.js")).parseYamlInventory;
}

/** For a module that loads the YAML reader statically (the ssh backend). */
export function useYamlInventoryReader(reader: typeof parseYamlInventory): void {
  yamlReader = reader;
}

/**
 * Parse inventory text. `file` is used in error positions. Text over the
 * input limit is refused (E_YAML). A YAML inventory needs
 * `loadYamlInventories()` first (the ssh backend does it when it loads).
 */
export function parseInventory(text: string, format: InventoryFormat = guessFormat(text), file = "<text>"): Inventory {
  const tooLarge = inputTooLarge(text.length, file);
  if (tooLarge) throw new TroupeError("E_YAML", tooLarge);
  if (format !== "yaml") return parseIniInventory(text, file);
  if (!yamlReader) throw new Error("YAML inventories are not loaded: call loadYamlInventories() first");
  return yamlReader(text, file);
}

/** Read an inventory file; the format comes from its extension, else from its content. */
export async function loadInventory(path: string, format?: InventoryFormat): Promise<Inventory> {
  let text: string;
  try {
    text = await readInput(path, path);
  } catch (e) {
    if (isTroupeError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TroupeError("E_PROJECT", `cannot read inventory ${path}: ${code === "ENOENT" ? "no such file" : String(e)}`);
  }
  const f = format ?? formatFor(path, text);
  if (f === "yaml") await loadYamlInventories();
  return parseInventory(text, f, path);
}

export function formatFor(path: string, text: string): InventoryFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".yml" || ext === ".yaml" || ext === ".json") return "yaml";
  if (ext === ".ini" || ext === ".cfg") return "ini";
  return guessFormat(text);
}

/** YAML when the first meaningful line is `---`, `{`, or a key ending in `:` with nothing after. */
export function guessFormat(text: string): InventoryFormat {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line === "---" || line.startsWith("{")) return "yaml";
    return /^[^\s[=]+:\s*(#.*)?$/.test(line) ? "yaml" : "ini";
  }
  return "ini";
}

/** How to reach an inventory host, from Ansible's connection variables. */
export interface HostConnection {
  /** `ansible_host`, else the inventory name. */
  readonly address: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly identityFile?: string;
}

export function connectionOf(host: InventoryHost): HostConnection {
  const v = host.vars;
  const str = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      const x = v[k];
      if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") return x === "" ? undefined : String(x);
    }
    return undefined;
  };
  const out: { address: string; port?: number; user?: string; password?: string; identityFile?: string } = {
    address: str("ansible_host", "ansible_ssh_host") ?? host.name,
  };
  const port = str("ansible_port", "ansible_ssh_port");
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new TroupeError("E_SCHEMA", {
        ...(host.pos ? { pos: host.pos } : {}),
        message: `host '${host.name}': ansible_port '${port}' is not a port number`,
      });
    }
    out.port = n;
  }
  const user = str("ansible_user", "ansible_ssh_user");
  if (user !== undefined) out.user = user;
  const password = str("ansible_password", "ansible_ssh_pass");
  if (password !== undefined) out.password = password;
  const key = str("ansible_ssh_private_key_file", "ansible_private_key_file");
  if (key !== undefined) out.identityFile = key;
  return out;
}
