// Options shared by several commands.

import { Option, type Command } from "commander";
import { TroupeError } from "../util/errors.js";

export function addProjectOption(cmd: Command): Command {
  return cmd.option("-C, --project <dir>", "the project directory (default: search upwards from here)");
}

/** Collect a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new TroupeError("E_USAGE", `${name} must be a whole number, not "${value}"`);
    return n;
  };
}

export function integer(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new TroupeError("E_USAGE", `${name} must be an integer, not "${value}"`);
    return n;
  };
}

/** `--backend-as NAME=TYPE`, repeatable, into a map. */
export function parseBackendAs(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const m = /^([^=\s]+)=([a-z][a-z0-9-]*)$/.exec(v);
    if (!m) {
      throw new TroupeError("E_USAGE", `--backend-as takes NAME=TYPE (for example lxd=local), not "${v}"`);
    }
    out[m[1]!] = m[2]!;
  }
  return out;
}

export function colorOption(): Option {
  return new Option("--no-color", "plain output without colors (also: NO_COLOR=1)");
}
