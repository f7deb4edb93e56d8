// The text every hook script runs as: Spread's prelude (spread/client.go,
// runPart), written so that bash and a plain POSIX sh both run it.
//
// Transports run scripts with /bin/sh. A project whose scripts are written
// for bash (every Spread project, and troupe projects by default) gets a
// small sh launcher that hands the prelude and script to bash on its stdin,
// as Spread runs `bash -` (nothing of them in any process's arguments):
//
//   exec /bin/bash -s <<'TROUPE_SCRIPT_END' ... TROUPE_SCRIPT_END
//
// and then, in bash or sh:
//
//   set -eu; cd DIR; helper functions; DEBIAN_*; PATH;
//   engine variables (SPREAD_*, TROUPE_*, sync env) as literals;
//   the job's environment, in order, as shell text evaluated on the host
//   (so values may use earlier ones and `$(...)`);
//   in a sync session, the troupe-ctl function (sync/ctl-function.ts);
//   set -x (after the variables, so secrets are not traced);
//   { SCRIPT } < /dev/null

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { EnvVar } from "../model/job.js";
import type { ScriptShell } from "../model/project.js";
import { inBash } from "../script/launcher.js";
import { MARKER_EXIT } from "../script/markers.js";
import { ctlFunctionLines } from "../sync/ctl-function.js";
import { isVarName, shQuote } from "./shell-quote.js";

const STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin";

// Each marker goes to the output (for people) and to fd 9, the script's
// original stderr (for the runner): see buildScript.
const marker = (name: string, args: string): string =>
  `${name}() { { set +xu; } 2>/dev/null; if [ -z "\${1:-}" ]; then m='<${name}>'; else m="<${name} ${args}>"; fi; echo "$m"; echo "$m" >&9; exit ${MARKER_EXIT}; }`;
const REBOOT_FN = marker("REBOOT", "$1");
const ERROR_FN = marker("ERROR", "$*");
const FATAL_FN = marker("FATAL", "$*");
// Subshell bodies, so that `set +xu` and the variables stay inside.
const MATCH_FN =
  `MATCH() ( { set +xu; } 2>/dev/null; [ $# -gt 0 ] || { echo "error: missing regexp argument"; exit 1; }; ` +
  `troupe_stdin="$(cat)"; printf '%s\\n' "$troupe_stdin" | grep -q -E "$@" || { res=$?; ` +
  `printf 'grep error: pattern not found, got:\\n%s\\n' "$troupe_stdin" >&2; ` +
  `if [ "$res" != 1 ]; then echo "unexpected grep exit status: $res"; fi; exit 1; }; )`;
const NOMATCH_FN =
  `NOMATCH() ( { set +xu; } 2>/dev/null; [ $# -gt 0 ] || { echo "error: missing regexp argument"; exit 1; }; ` +
  `troupe_stdin="$(cat)"; if printf '%s\\n' "$troupe_stdin" | grep -q -E "$@"; then ` +
  `printf "NOMATCH pattern='%s' found in:\\n%s\\n" "$*" "$troupe_stdin" >&2; exit 1; fi; )`;

/** Helper functions, in the order Spread defines them. */
export const HELPER_FUNCTIONS: readonly string[] = [REBOOT_FN, ERROR_FN, FATAL_FN, MATCH_FN, NOMATCH_FN];

export type VarList = readonly (readonly [string, string])[];

export interface ScriptSpec {
  /** The user's script; blank scripts are not run at all by the engine. */
  readonly script: string;
  /** Working directory on the host. */
  readonly dir?: string;
  /**
   * Values the engine owns (SPREAD_*, TROUPE_*, what the sync session adds),
   * exported literally. `PATH` here is a list of directories put in front.
   */
  readonly vars?: VarList | Readonly<Record<string, string>>;
  /** The job's environment, evaluated in order on the host; keys also in `vars` are left out. */
  readonly environment?: readonly EnvVar[];
  /** Trace commands (`set -x`), as Spread runs every hook; default true. */
  readonly trace?: boolean;
  /** What the script is written for: bash (the default) or a POSIX sh. */
  readonly shell?: ScriptShell;
  /** Define FATAL (default true); Spread defines it only for adhoc allocate and discard, not in a project's scripts. */
  readonly fatal?: boolean;
}

function varList(vars: ScriptSpec["vars"]): VarList {
  if (!vars) return [];
  return Array.isArray(vars) ? (vars as VarList) : Object.entries(vars as Record<string, string>);
}

/** `export K=V` as Spread writes it: quoted values stay as written, others go in double quotes. */
export function exportLine(key: string, value: string): string {
  if (value.length === 0 || value[0] === '"' || value[0] === "'") return `export ${key}=${value}\n`;
  return `export ${key}="${value}"\n`;
}

/** Everything but the script: directory, functions and variables. */
function header(spec: Omit<ScriptSpec, "script" | "trace">, functions: boolean): string {
  let out = "";
  if (spec.dir) out += `cd ${shQuote(spec.dir)}\n`;
  if (functions) for (const fn of HELPER_FUNCTIONS) if (spec.fatal !== false || fn !== FATAL_FN) out += fn + "\n";
  out += "export DEBIAN_FRONTEND=noninteractive\n";
  out += "export DEBIAN_PRIORITY=critical\n";
  // Spread sets a fixed PATH for root on remote machines; here the current
  // PATH is kept in front so that local hosts keep the user's tools.
  out += `export PATH="\${PATH:+$PATH:}${STANDARD_PATH}"\n`;
  const vars = varList(spec.vars);
  const owned = new Set<string>();
  for (const [key, value] of vars) {
    owned.add(key);
    if (!isVarName(key)) continue;
    if (key === "PATH") {
      const dirs = value.split(":").filter((d) => d !== "" && d !== "$PATH" && d !== "${PATH}");
      if (dirs.length > 0) out += `export PATH=${shQuote(dirs.join(":"))}:"$PATH"\n`;
      continue;
    }
    out += `export ${key}=${shQuote(value)}\n`;
  }
  for (const { key, value } of spec.environment ?? []) {
    if (owned.has(key)) continue;
    out += exportLine(key, value);
  }
  // In a multi-host job, `troupe-ctl` runs as a function of the script's shell.
  if (owned.has("TROUPE_CTL_DIR")) out += ctlFunctionLines();
  return out;
}

/** The full text of a hook script, ready for `sh -c`. */
export function buildScript(spec: ScriptSpec): string {
  const body = scriptBody(spec);
  return (spec.shell ?? "bash") === "bash" ? inBash(body) : body;
}

/** The prelude and script, for the shell that runs them (buildScript's for a host; a local script's, on stdin). */
export function scriptBody(spec: Omit<ScriptSpec, "shell">): string {
  // One stream, as Spread runs `bash - 2>&1`: traces, output and errors stay in order.
  let out = "exec 9>&2 2>&1\nset -eu\n";
  out += header(spec, true);
  if (spec.trace ?? true) out += "set -x\n";
  // The script's stdin is /dev/null, as in Spread: nothing may read the script
  // itself (bash reads it from its stdin on remote hosts). In a brace group,
  // where Spread has a subshell: nothing runs after it, so a subshell's fork
  // (a third of the CPU a trivial script costs) would buy nothing.
  out += `\n{\n${spec.script.trim()}\n} < /dev/null\n`;
  return out;
}

/** The bash that runs scripts on this machine (repack, `$(HOST:...)`): /bin/bash, else the first on PATH, else sh. */
export function localBash(): string {
  if (existsSync("/bin/bash")) return "/bin/bash";
  for (const dir of (process.env["PATH"] ?? "").split(":")) if (dir && existsSync(join(dir, "bash"))) return join(dir, "bash");
  return "/bin/sh";
}

/**
 * An interactive shell at the same point, with the same environment (the
 * shell, shell-before, shell-after and debug modes). bash when the host has
 * it, sh otherwise; the functions and variables come from an rc file.
 */
export function buildShellScript(spec: Omit<ScriptSpec, "script" | "trace">): string {
  const rcBody =
    header({ ...spec, dir: "" }, true) +
    `if [ -n "\${BASH_VERSION:-}" ]; then PS1='$SPREAD_BACKEND:$SPREAD_SYSTEM \${PWD/#$SPREAD_PATH/...}# '; ` +
    `else PS1="\${SPREAD_BACKEND:-troupe}:\${SPREAD_SYSTEM:-} # "; fi\n`;
  let out = "exec 9>&2\nset -eu\n";
  if (spec.dir) out += `cd ${shQuote(spec.dir)}\n`;
  out += `troupe_rc="\${TMPDIR:-/tmp}/troupe-shell.$$"\n`;
  out += `cat > "$troupe_rc" <<'TROUPE_RC_END'\n${rcBody}TROUPE_RC_END\n`;
  out += `trap 'rm -f "$troupe_rc"' EXIT\n`;
  out += `if command -v bash >/dev/null 2>&1; then bash --rcfile "$troupe_rc" -i || true; else ENV="$troupe_rc" sh -i || true; fi\n`;
  return out;
}
