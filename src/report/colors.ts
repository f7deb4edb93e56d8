// Colors for the terminal writer, and the rule for when to use them.

import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

/** Formatters that add ANSI colors, or leave text alone when `enabled` is false. */
export function makeColors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

/**
 * Whether to color: only on a terminal, never when `--no-color` was given or
 * `NO_COLOR` is set to anything non-empty (https://no-color.org), and never on
 * a `TERM=dumb` terminal. `FORCE_COLOR` (non-empty, not `0`) turns colors on
 * even off a terminal, unless `--no-color` was given.
 */
export function shouldColor(opts: {
  readonly tty: boolean;
  readonly noColorFlag?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}): boolean {
  const env = opts.env ?? process.env;
  if (opts.noColorFlag) return false;
  if (env["NO_COLOR"]) return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "" && force !== "0") return true;
  if (env["TERM"] === "dumb") return false;
  return opts.tty;
}
