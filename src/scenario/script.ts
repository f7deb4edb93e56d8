// The text a scenario step runs on its host: tasks' conventions where they
// make sense (set -eu, the MATCH/NOMATCH/ERROR helpers, the standard PATH,
// TROUPE_* variables, troupe-ctl on PATH, stdin from /dev/null), but stdout
// and stderr stay apart and nothing is traced, so that `vars_updates` can
// read a step's stdout. Pure.

import { posix } from "node:path";
import { HELPER_FUNCTIONS } from "../exec/prelude.js";
import { isVarName, shQuote } from "../exec/shell-quote.js";
import { ctlFunctionLines } from "../sync/ctl-function.js";

const STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin";

export interface StepScript {
  readonly script: string;
  /** Working directory on the host (created if missing). */
  readonly dir: string;
  /** Exported literally, in order; `PATH` is a list of directories put in front. */
  readonly vars: readonly (readonly [string, string])[];
  /** Send stdout and stderr to this file on the host (log: keep/summary); markers still reach troupe. */
  readonly log?: string;
}

export function buildStepScript(spec: StepScript): string {
  // fd 9: where ERROR/FATAL markers go (the script's own stderr).
  let out = "exec 9>&2 </dev/null\nset -eu\n";
  // Not `mkdir -p D && cd D`: set -e does not stop on a failure inside an && list, and the
  // step would run in $HOME.
  out += `mkdir -p ${shQuote(spec.dir)} || exit 1\ncd ${shQuote(spec.dir)} || exit 1\n`;
  if (spec.log !== undefined) {
    out += `mkdir -p ${shQuote(posix.dirname(spec.log))} || exit 1\nexec >>${shQuote(spec.log)} 2>&1 || exit 1\n`;
  }
  for (const fn of HELPER_FUNCTIONS) out += fn + "\n";
  out += `export PATH="\${PATH:+$PATH:}${STANDARD_PATH}"\n`;
  for (const [key, value] of spec.vars) {
    if (!isVarName(key)) continue;
    if (key === "PATH") {
      const dirs = value.split(":").filter((d) => d !== "" && d !== "$PATH");
      if (dirs.length > 0) out += `export PATH=${shQuote(dirs.join(":"))}:"$PATH"\n`;
      continue;
    }
    out += `export ${key}=${shQuote(value)}\n`;
  }
  if (spec.vars.some(([key]) => key === "TROUPE_CTL_DIR")) out += ctlFunctionLines();
  out += "\n" + spec.script.replace(/\s+$/, "") + "\n";
  return out;
}

/**
 * A check that something listens on TCP `port` on the host, from
 * /proc/net/tcp and tcp6 with the shell's `read` (hosts need only sh).
 * Exit 0: listening; 1: not yet; 2: cannot tell (no /proc).
 */
export function listeningScript(port: number): string {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return [
    "seen=",
    "for f in /proc/net/tcp /proc/net/tcp6; do",
    '  [ -r "$f" ] || continue',
    "  seen=1",
    "  while read -r sl local rem st rest; do",
    `    case "$local" in *:${hex}) [ "$st" = 0A ] && exit 0;; esac`,
    '  done < "$f"',
    "done",
    '[ -n "$seen" ] && exit 1',
    "exit 2",
  ].join("\n");
}

/** The TCP port an endpoint names explicitly (`http://10.0.0.1:8000/x`, `10.0.0.1:8000`), if any. */
export function endpointPort(endpoint: string): number | undefined {
  try {
    const u = new URL(endpoint);
    if (u.port !== "") return Number(u.port);
    if (u.host !== "") return undefined;
  } catch {
    // not a URL: host:port
  }
  const m = /^(?:\[[^\]]*\]|[^/:]*):(\d{1,5})(?:\/|$)/.exec(endpoint);
  const port = m ? Number(m[1]) : NaN;
  return port > 0 && port < 65536 ? port : undefined;
}
