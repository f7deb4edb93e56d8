// Where the live dashboard listens (`--serve [ADDR:PORT]`): loopback and a
// free port unless told otherwise. Pure: parsing and the loopback test only.

import { isIP } from "node:net";
import { TroupeError } from "../util/errors.js";

export interface ServeAddress {
  readonly host: string;
  /** 0: a free port, chosen when listening. */
  readonly port: number;
  /** Only this machine can connect. */
  readonly loopback: boolean;
}

export const DEFAULT_SERVE_HOST = "127.0.0.1";

/** `127.0.0.0/8`, `::1`, `localhost` (and IPv4-mapped loopback). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^::ffff:/, "");
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/**
 * `--serve` alone (true), `PORT`, `ADDR:PORT`, `[IPV6]:PORT` or `ADDR`.
 * Throws E_USAGE for anything else, saying what to write.
 */
export function parseServeAddress(spec: string | true, flag = "--serve"): ServeAddress {
  if (spec === true || spec === "") return { host: DEFAULT_SERVE_HOST, port: 0, loopback: true };
  let host: string;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(spec);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else if (/^\d+$/.test(spec)) {
    host = DEFAULT_SERVE_HOST;
    port = spec;
  } else if (spec.split(":").length === 2) {
    [host, port] = spec.split(":") as [string, string];
    if (host === "") host = DEFAULT_SERVE_HOST;
  } else if (isIP(spec) === 6 || !spec.includes(":")) {
    host = spec;
  } else {
    throw new TroupeError("E_USAGE", `${flag} takes [ADDR:]PORT (an IPv6 address in brackets: [::1]:8080), not "${spec}"`);
  }
  const n = port === undefined ? 0 : Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535 || port === "") {
    throw new TroupeError("E_USAGE", `${flag} takes [ADDR:]PORT (for example 127.0.0.1:8080, or 0 for a free port), not "${spec}"`);
  }
  if (!host || /[\s/]/.test(host)) throw new TroupeError("E_USAGE", `${flag}: "${host}" is not an address to listen on`);
  return { host, port: n, loopback: isLoopback(host) };
}

/** What `--serve` on another address than loopback means, said before the run. */
export function exposureWarning(a: ServeAddress): string | undefined {
  if (a.loopback) return undefined;
  return (
    `troupe: WARNING: the live dashboard listens on ${a.host}, not on loopback: anyone who can reach this ` +
    `machine on port ${a.port || "(the one printed below)"} can read the run's output and logs, without a password. ` +
    `Use --serve 127.0.0.1:PORT (the default) and an SSH tunnel to look from elsewhere.`
  );
}

/** The URL to print for a listening address. */
export function serveUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`;
}
