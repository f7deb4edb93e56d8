// Shell pieces the tezos jobs share. Hosts need only sh, and curl or wget
// (Octogram's agents need curl) for the RPCs the jobs call themselves.

import { shQuote } from "../../exec/shell-quote.js";
import type { JobContext } from "../plugin.js";

/** `http METHOD URL [JSON-FILE]`: the body on stdout; fails on an HTTP error. */
export const HTTP_FUNCTION = `http() {
  if command -v curl >/dev/null 2>&1; then
    if [ -n "\${3:-}" ]; then curl -fsS -X "$1" -H 'Content-Type: application/json' --data-binary @"$3" "$2"; else curl -fsS "$2"; fi
  else
    if [ -n "\${3:-}" ]; then wget -qO- --header 'Content-Type: application/json' --post-file "$3" "$2"; else wget -qO- "$2"; fi
  fi
}`;

/** A command line from words, each quoted. */
export function command(...words: readonly (string | false | undefined)[]): string {
  return words
    .filter((w): w is string => typeof w === "string")
    .map(shQuote)
    .join(" ");
}

/** The protocol hashes octez knows by the names Octogram's recipes use. */
export const PROTOCOL_HASHES: Readonly<Record<string, string>> = {
  alpha: "ProtoALphaALphaALphaALphaALphaALphaALphaALphaDdp3zK",
};

/** Octez's own default ports, used when a job gives none (Octogram picks free ones). */
export const DEFAULT_PORTS = { nodeRpc: 8732, nodeNet: 9732, nodeMetrics: 9932, dalRpc: 10732, dalNet: 11732, dalMetrics: 11733 };

/** `4` from `'4'`, with the argument's name in the error. */
export function int(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined || value.trim() === "") {
    if (fallback === undefined) throw new Error(`${name} is required`);
    return fallback;
  }
  const n = Number(value.replace(/_/g, ""));
  if (!Number.isSafeInteger(n)) throw new Error(`${name}: ${JSON.stringify(value)} is not a whole number`);
  return n;
}

/**
 * A binary the recipe does not name: the first of `names` found in the
 * scenario directory (where recipes copy them, as Tezt finds them in its
 * working directory) or on the PATH.
 */
export async function findBinary(ctx: JobContext, names: readonly string[], argument: string): Promise<string> {
  const candidates = names
    .flatMap((n) => [`./${n}`, n])
    .map(shQuote)
    .join(" ");
  const script = `for b in ${candidates}; do if command -v "$b" >/dev/null 2>&1; then command -v "$b"; exit 0; fi; done
echo "none of ${names.join(", ")} in the scenario directory or on the PATH: give ${argument}" >&2; exit 1`;
  return (await ctx.sh(script)).stdout.trim();
}
