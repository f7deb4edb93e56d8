// The reuse file as Spread writes it (`.spread-reuse.yaml`, spread/reuse.go),
// for a Spread project: tools and Spread's own tests read it (its adhoc test
// takes the lxd container's `password` and `address` from it). troupe's own
// file (`.troupe-reuse.yaml`) stays the record troupe reads; this is a copy
// in Spread's words, written after it each time it changes:
//
//   backends:
//     lxd:
//       systems:
//       - ubuntu-16.04:
//           username: ubuntu     # only when the system has one
//           password: 5e2f0c1d9a8b7c6d
//           address: 10.70.4.12
//           data: {name: ...}    # what the backend needs to take it back
//
// Every recorded host has a password, as in Spread: the system's, else the
// session's (-pass, or random). A file with no hosts is empty, as Spread
// leaves it.

import { stringify } from "yaml";
import type { RecordedHost } from "../backend.js";

/** Spread's text for `hosts`, grouped by backend in their order, each system's fields in Spread's order. */
export function formatSpreadReuseFile(hosts: readonly RecordedHost[]): string {
  if (hosts.length === 0) return "";
  const backends: Record<string, { systems: Record<string, Record<string, unknown>>[] }> = {};
  for (const h of hosts) {
    const b = (backends[h.backend] ??= { systems: [] });
    b.systems.push({
      [h.system]: {
        ...(h.username ? { username: h.username } : {}),
        password: h.password ?? "",
        address: h.address,
        ...(h.data !== undefined && Object.keys(h.data).length > 0 ? { data: h.data } : {}),
      },
    });
  }
  // YAML 1.1, as Go's yaml.v2 reads it: text such as `yes` or `0123` gets quoted.
  return stringify({ backends }, { version: "1.1", lineWidth: 0 });
}
