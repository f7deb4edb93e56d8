// `--serve [ADDR:PORT]`, the same for run, spread and play.

import { Option } from "commander";

export function serveOption(): Option {
  return new Option(
    "--serve [addr:port]",
    "serve the report live while it runs, at the URL printed (default 127.0.0.1 and a free port; other addresses are warned about)",
  );
}

/** What `--serve` takes as its address when it follows it: `PORT`, `ADDR:PORT`, `[IPV6]:PORT`. */
export function looksLikeServeAddress(v: string): boolean {
  return /^\d+$/.test(v) || /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d+$/.test(v);
}

/**
 * `--serve` then a word that is no address (a filter, a scenario file) is
 * `--serve` alone: the word stays a positional argument, as users mean
 * (`troupe run --serve checks/`), rather than being taken for the address.
 */
export function separateServeValue(args: readonly string[]): string[] {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === "--") break;
    const next = out[i + 1];
    if (out[i] === "--serve" && next !== undefined && !next.startsWith("-") && !looksLikeServeAddress(next)) out[i] = "--serve=";
  }
  return out;
}
