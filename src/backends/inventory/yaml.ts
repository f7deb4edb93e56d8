// Ansible's YAML inventory format:
//
//   all:
//     hosts:
//       mail.example.com:
//     children:
//       web:
//         hosts:
//           web[01:20].lan:
//             ansible_user: deploy
//         vars: {http_port: 8080}
//       prod:
//         children:
//           web:
//
// Top-level keys are groups (usually just `all`); each group may have
// `hosts` (a map of host pattern -> variables or null), `vars` and
// `children` (a map of group name -> group, recursively).

import { createRequire } from "node:module";
import { plainText } from "../../util/text.js";
import type * as YamlLib from "yaml";
import type { Node, YAMLMap } from "yaml";
import type { SourcePos } from "../../model/position.js";
import { TroupeError } from "../../util/errors.js";
import { InventoryBuilder, type Inventory } from "./model.js";
import { expandAnsiblePattern, isIPv6, PatternError, splitHostPort } from "./pattern.js";

const GROUP_KEYS = ["hosts", "vars", "children"];

// The yaml package is loaded on first use: it costs 30-40 ms of CPU to load,
// which `troupe exec` over ssh would pay before its first connection for a
// hostlist or an INI inventory, where it is not needed. Inventories are read
// synchronously, hence require() rather than import().
const requireYaml = createRequire(import.meta.url);
let yamlLib: typeof YamlLib | undefined;
function yaml(): typeof YamlLib {
  return (yamlLib ??= requireYaml("yaml") as typeof YamlLib);
}
const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
const isScalar = (node: unknown): node is YamlLib.Scalar => yaml().isScalar(node);

export function parseYamlInventory(text: string, file = "<text>"): Inventory {
  const { LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const posOf = (node: Node | null | undefined): SourcePos | undefined => {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lc.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length > 0) {
    throw new TroupeError(
      "E_YAML",
      doc.errors.map((e) => {
        const { line, col } = lc.linePos(e.pos[0]);
        return { pos: { file, line, col }, message: e.message.split("\n")[0] ?? e.message };
      }),
    );
  }
  const b = new InventoryBuilder(file);
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) return b.build();
  if (!isMap(root)) {
    b.problem("an inventory must be a map of group names to groups", posOf(root));
    return b.build();
  }

  const group = (name: string, node: unknown, path: string, pos: SourcePos | undefined): void => {
    b.group(name, pos);
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      b.problem(`group '${name}' must be a map with hosts, vars or children`, posOf(node as Node), path);
      return;
    }
    for (const pair of node.items) {
      const key = scalarText(pair.key);
      const kpos = posOf(pair.key as Node);
      if (key === undefined || !GROUP_KEYS.includes(key)) {
        b.problem(`unknown key '${String(key)}' in group '${name}'; a group has hosts, vars and children`, kpos, path);
        continue;
      }
      const value = pair.value as Node | null;
      if (value === null || (isScalar(value) && value.value === null)) continue;
      if (!isMap(value)) {
        b.problem(`'${key}' of group '${name}' must be a map`, posOf(value), `${path}.${key}`);
        continue;
      }
      if (key === "vars") {
        b.setGroupVars(name, toPlain(value));
      } else if (key === "hosts") {
        for (const hp of value.items) {
          const pattern = scalarText(hp.key);
          const hpos = posOf(hp.key as Node);
          if (pattern === undefined || pattern === "") {
            b.problem("a host name must be a string", hpos, `${path}.hosts`);
            continue;
          }
          const hv = hp.value as Node | null;
          let vars: Record<string, unknown> = {};
          if (hv !== null && !(isScalar(hv) && hv.value === null)) {
            if (!isMap(hv)) {
              b.problem(`variables of host '${pattern}' must be a map`, posOf(hv), `${path}.hosts.${pattern}`);
              continue;
            }
            vars = toPlain(hv);
          }
          addHosts(b, name, pattern, vars, hpos, `${path}.hosts`);
        }
      } else {
        for (const cp of value.items) {
          const child = scalarText(cp.key);
          const cpos = posOf(cp.key as Node);
          if (child === undefined || child === "") {
            b.problem("a group name must be a string", cpos, `${path}.children`);
            continue;
          }
          if (child === name) {
            b.problem(`group '${child}' cannot be its own child`, cpos, `${path}.children`);
            continue;
          }
          b.addChild(name, child, cpos);
          group(child, cp.value, `${path}.children.${child}`, cpos);
        }
      }
    }
  };

  for (const pair of root.items) {
    const name = scalarText(pair.key);
    if (name === undefined || name === "") {
      b.problem("a group name must be a string", posOf(pair.key));
      continue;
    }
    group(name, pair.value, name, posOf(pair.key));
  }
  return b.build();
}

function addHosts(
  b: InventoryBuilder,
  group: string,
  text: string,
  vars: Record<string, unknown>,
  pos: SourcePos | undefined,
  path: string,
): void {
  const { pattern, port } = splitHostPort(text);
  const all = port !== undefined && vars["ansible_port"] === undefined ? { ...vars, ansible_port: port } : vars;
  try {
    const names = isIPv6(pattern) ? [pattern] : expandAnsiblePattern(pattern);
    for (const n of names) b.addHost(group, n, all, pos);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    b.problem(e.message, pos, path);
  }
}

function scalarText(node: unknown): string | undefined {
  if (isScalar(node)) return node.value === null ? undefined : plainText(node.value);
  return undefined;
}

function toPlain(node: YAMLMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of node.items) {
    const key = scalarText(pair.key);
    if (key === undefined) continue;
    const v = pair.value as { toJSON?: () => unknown } | null;
    out[key] = v !== null && typeof v === "object" && "toJSON" in v && typeof v.toJSON === "function" ? v.toJSON() : v;
  }
  return out;
}
