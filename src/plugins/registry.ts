// The plugins troupe loads: `builtins` (Octogram's builtins.* jobs) and
// `tezos` (Octogram's tezos.* jobs, calling the octez binaries a recipe
// names). A job kind is found by its full name; an unknown one is an error
// that names it and the plugins loaded.

import type * as z from "zod";
import { builtinsPlugin } from "./builtins.js";
import type { JobKind, JobPlugin } from "./plugin.js";
import { tezosPlugin } from "./tezos/index.js";

const plugins: JobPlugin[] = [builtinsPlugin, tezosPlugin];

/** Add a plugin (the API, tests); its kinds must not be taken. */
export function registerPlugin(plugin: JobPlugin): void {
  for (const kind of Object.keys(plugin.jobs)) {
    if (findJobKind(kind)) throw new Error(`job kind ${kind} is already provided by another plugin`);
  }
  plugins.push(plugin);
}

export function loadedPlugins(): readonly JobPlugin[] {
  return plugins;
}

export function findJobKind(kind: string): JobKind<never> | undefined {
  for (const p of plugins) {
    const k = p.jobs[kind];
    if (k) return k;
  }
  return undefined;
}

/** Whether a job key names a plugin's job kind (a dotted name), known or not. */
export function isPluginKey(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(key);
}

/** "unknown job kind tezos.foo; plugins loaded: builtins (tar, ...), tezos (...)" */
export function unknownKindMessage(kind: string): string {
  const list = plugins.map((p) => `${p.name} (${Object.keys(p.jobs).join(", ")})`).join("; ");
  return `unknown job kind ${kind}: no plugin provides it; plugins loaded: ${list}`;
}

/**
 * Every job kind as a job key whose value is its arguments (`tezos.start_node:
 * {path_node: ...}`), for the JSON Schema editors read (`troupe schema`).
 */
export function pluginJobFields(): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  for (const p of plugins)
    for (const [name, kind] of Object.entries(p.jobs)) out[name] = kind.args.optional().describe(`${p.name} plugin: ${kind.summary}`);
  return out;
}
