// Builds the relay script sent to each host: share/sync/relay.sh with
// share/troupe-ctl embedded as a here-document, so that one exec both
// installs the client and starts the relay (one session per host, even over SSH).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TroupeError } from "../util/errors.js";

/** The package's `share/` dir, found upward from this file (works from src/ and from dist/src/). */
export function findShareDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "share", "troupe-ctl"))) return join(dir, "share");
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new TroupeError("E_UNSUPPORTED", "cannot find troupe's share/troupe-ctl next to the installed package");
}

let cached: { shareDir: string; script: string } | undefined;

/** The relay script for hosts, with troupe-ctl inside. */
export function relayScript(shareDir: string = findShareDir()): string {
  if (cached?.shareDir === shareDir) return cached.script;
  const relay = readFileSync(join(shareDir, "sync", "relay.sh"), "utf8");
  const ctl = readFileSync(join(shareDir, "troupe-ctl"), "utf8");
  let tag = "TROUPE_CTL_EOF";
  while (ctl.includes(tag)) tag += "_";
  const install = `cat >"$D/bin/troupe-ctl" <<'${tag}' || exit 70\n${ctl.endsWith("\n") ? ctl : `${ctl}\n`}${tag}`;
  if (!relay.includes("# @INSTALL@")) throw new TroupeError("E_UNSUPPORTED", `${shareDir}/sync/relay.sh has no # @INSTALL@ marker`);
  const script = relay.replace("# @INSTALL@", () => install);
  cached = { shareDir, script };
  return script;
}
