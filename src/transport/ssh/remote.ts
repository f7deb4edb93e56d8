// The shell text the SSH transport runs on the host. Pure functions: no I/O.
//
// The host needs nothing but a POSIX `sh` and `tar`. sshd runs the command we
// send through the user's login shell (`$SHELL -c COMMAND`) as the leader of a
// new session (OpenSSH calls setsid() for every session), so every command
// starts with `exec /bin/sh -c '...'`: the login shell becomes our `sh`, whose
// pid is then the id of the process group that holds everything the script
// starts. The wrapper prints that id on stderr before anything else, so the
// orchestrator can later kill the whole group from a second session; it prints
// the script's exit status last, so that a status of 255 from the script is
// not mistaken for ssh's own failure.

import { SCRIPT_FROM_ENV, SCRIPT_VAR } from "../../script/launcher.js";
import { shWord } from "../../exec/shell-quote.js";
import { TroupeError } from "../../util/errors.js";

/** A path that cannot be mistaken for an option: `-x` becomes `./-x`. */
export function safePath(path: string): string {
  return path.startsWith("-") ? `./${path}` : path;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** `export NAME='value'` lines; names must be shell identifiers. */
export function exportLines(env: Readonly<Record<string, string>> | undefined): string {
  if (!env) return "";
  let out = "";
  for (const [name, value] of Object.entries(env)) {
    if (!isEnvName(name)) {
      throw new TroupeError("E_USAGE", `cannot set environment variable ${JSON.stringify(name)}: not a valid shell name`);
    }
    out += `export ${name}=${shWord(value)}\n`;
  }
  return out;
}

/** The command line handed to sshd: our own `sh` replaces the login shell. */
export function remoteCommand(shellText: string): string {
  return `exec /bin/sh -c ${shWord(shellText)}`;
}

/**
 * A new session's token (12 hex digits), which marks its marker lines. Not
 * a secret (the host sees it in the command line anyway); it only has to
 * differ from anything a script prints, so Math.random does: node:crypto
 * would cost `troupe exec` 20-40 ms to load before its first connection.
 */
export function sessionToken(): string {
  return Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, "0");
}

/** The first characters of every marker line of one session. */
export function markerPrefix(token: string): string {
  return `<<troupe:${token}:`;
}

export interface SessionScript {
  /** The user's script, run by `/bin/sh -c` (or from `scriptFile`). */
  readonly script: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Random per session; marks the pgid and exit lines on stderr. */
  readonly token: string;
  /**
   * When set, the script was uploaded to this file: run it and remove it.
   * Any path; a relative one is taken from `cwd`.
   */
  readonly scriptFile?: string;
  /** The script gets no input: its stdin is /dev/null (the session's stdin carries the wrapper itself). */
  readonly noStdin?: boolean;
}

/** Shell words that are not programs: reserved words, and builtins that change or end the shell running them. */
const NOT_A_PROGRAM = new Set(
  (
    "! { } [[ ]] case do done elif else esac fi for function if in select then time until while " +
    ". : alias bg break builtin cd command continue declare disown enable eval exec exit export fc fg getopts hash " +
    "jobs let local logout newgrp read readonly return set shift source suspend times trap typeset ulimit umask unalias unset wait"
  ).split(" "),
);

/**
 * A command a shell would run without expanding, splitting or redirecting
 * anything: words of letters, digits and -./:=,@%+_ separated by single
 * spaces, the first naming a program. The wrapper runs such a command itself
 * instead of through a `/bin/sh -c` of its own (one exec fewer on the host,
 * the same result); everything else gets a shell of its own.
 */
export function isPlainCommand(script: string): boolean {
  const words = script.split(" ");
  const first = words[0] ?? "";
  if (!words.every((w) => /^[A-Za-z0-9_@%+=:,./-]+$/.test(w))) return false;
  return !first.includes("=") && !NOT_A_PROGRAM.has(first);
}

/** The wrapper of a non-interactive session (see the file comment). */
export function sessionWrapper(s: SessionScript): string {
  const mark = markerPrefix(s.token);
  const lines: string[] = [];
  lines.push(`printf '%s\\n' ${shWord(mark)}"pgid:$$>>" >&2`);
  const done = (status: string): string => `printf '%s\\n' ${shWord(mark)}"exit:${status}>>" >&2`;
  // The trap's command is quoted as one word around the quoted path: the
  // path inside an already quoted trap would put its own quotes, spaces and
  // `$(...)` back in the open, to be split and run.
  const file = s.scriptFile === undefined ? undefined : shWord(safePath(s.scriptFile));
  if (file !== undefined) lines.push(`trap ${shWord(`rm -f -- ${file}`)} EXIT`);
  if (s.cwd !== undefined) lines.push(`cd ${shWord(safePath(s.cwd))} || { ${done("1")}; exit 1; }`);
  const input = s.noStdin ? " </dev/null" : "";
  const exports = exportLines(s.env);
  if (file === undefined && exports === "" && isPlainCommand(s.script)) lines.push(s.script + input);
  else {
    // The script runs in a shell of its own (its $$ is its own), which
    // takes it from its environment rather than its arguments: `ps` shows
    // arguments to every user, a process's environment only to its own.
    lines.push("(");
    if (exports) lines.push(exports.trimEnd());
    if (file !== undefined) lines.push(`exec /bin/sh ${file}`);
    else lines.push(`${SCRIPT_VAR}=${shWord(s.script)}`, `export ${SCRIPT_VAR}`, `exec /bin/sh -c ${shWord(SCRIPT_FROM_ENV)}`);
    lines.push(`)${input}`);
  }
  lines.push("troupe_status=$?");
  lines.push(done("$troupe_status"));
  lines.push("exit $troupe_status");
  return lines.join("\n");
}

/**
 * The wrapper as a session starts it. A wrapper that holds nothing but a
 * plain command or a script file's name goes on the command line as it is
 * (`troupe exec HOSTS -- uptime` stays one exec on the host). Any other
 * holds the script's text or the environment's values, which must never be
 * in a process's arguments (`ps -eo args` shows them to every user of the
 * host, and `ssh`'s own to every user of the orchestrator): the command
 * line is then a fixed reader (`STDIN_READER`) and the wrapper comes first
 * on the session's stdin, as a line count and its lines, before the
 * script's own input.
 */
export interface SessionLaunch {
  /** What `/bin/sh -c` runs on the host (wrap it in `remoteCommand` for sshd). */
  readonly shellText: string;
  /** What to write on the session's stdin before the script's own input; none for a public wrapper. */
  readonly input?: string;
}

export function sessionLaunch(s: SessionScript): SessionLaunch {
  const wrapper = sessionWrapper(s);
  const exposed = s.env !== undefined && Object.keys(s.env).length > 0;
  if (!exposed && (s.scriptFile !== undefined || isPlainCommand(s.script))) return { shellText: wrapper };
  return { shellText: STDIN_READER, input: framed(wrapper) };
}

/**
 * Reads a line count and that many lines from stdin (`read` takes a byte at
 * a time, so what follows stays for the script), then runs them. Its
 * variables are not exported.
 */
export const STDIN_READER = [
  "IFS= read -r troupe_n || exit 1",
  "troupe_w=",
  'while [ "$troupe_n" -gt 0 ] && IFS= read -r troupe_l; do',
  "  troupe_w=$troupe_w$troupe_l'",
  "'",
  "  troupe_n=$((troupe_n - 1))",
  "done",
  'eval "$troupe_w"',
].join("\n");

/** `text` as STDIN_READER and the command loop read it: its line count, then its lines. */
export function framed(text: string): string {
  const lines = text.endsWith("\n") ? text.slice(0, -1) : text;
  return `${lines.split("\n").length}\n${lines}\n`;
}

/**
 * The text of a script file that a session will run (large scripts, and
 * interactive ones, whose stdin is the terminal): it removes itself first
 * (the shell reading it keeps it open), then sets the environment, so that
 * neither the values nor the file outlive the script.
 */
export function scriptFileText(file: string, env: Readonly<Record<string, string>> | undefined, script: string): string {
  return `rm -f -- ${shWord(safePath(file))}\n${exportLines(env)}${script}`;
}

/**
 * The command loop of a long-lived session (command-session.ts). It reads
 * requests from stdin: a line `TOKEN PGID N` and the N lines of a session
 * wrapper. Before running one, it checks that nothing of the previous
 * command's group PGID is left (else `busy:PGID`, and it ends: what is left
 * may hold the session's output), and that setsid exists (else `busy:0`).
 * Each wrapper runs under setsid, handed to STDIN_READER through a pipe (so
 * that neither it nor its values are in any process's arguments), thus as the
 * leader of its own session and group, as on a session of its own; then the
 * loop writes `done:STATUS` on stdout and on stderr, after everything the
 * command wrote there. The loop's variables are not exported.
 */
export function commandLoop(): string {
  const mark = (kind: string, value: string, toErr: boolean): string =>
    `printf '<<troupe:%s:${kind}:%s>>\\n' "$t" "${value}"${toErr ? " >&3" : ""}`;
  return [
    // The loop's own messages (a shell reports a command killed by a signal:
    // "Terminated") must not land in the command's stderr: fd 3 is the session's.
    "exec 3>&2 2>/dev/null",
    "s=; command -v setsid >/dev/null && s=1",
    `r=${shWord(STDIN_READER)}`,
    "while IFS= read -r h; do",
    "  t=${h%% *}; h=${h#* }; p=${h%% *}; n=${h#* }; m=$n",
    "  w=",
    '  while [ "$n" -gt 0 ] && IFS= read -r l; do',
    "    w=$w$l'",
    "'",
    "    n=$((n - 1))",
    "  done",
    `  [ -n "$s" ] || { ${mark("busy", "0", true)}; exit 0; }`,
    `  if [ "$p" != 0 ] && kill -0 -"$p" 2>/dev/null; then ${mark("busy", "$p", true)}; exit 0; fi`,
    // The wrapper reaches its shell through a pipe, never its arguments.
    '  { printf \'%s\\n\' "$m"; printf \'%s\' "$w"; } | setsid /bin/sh -c "$r" 2>&3 3>&-',
    "  c=$?",
    `  ${mark("done", "$c", false)}`,
    `  ${mark("done", "$c", true)}`,
    "done",
  ].join("\n");
}

/** One request of the command loop: header, then the wrapper's lines. */
export function loopRequest(token: string, prevPgid: number, wrapper: string): string {
  return `${token} ${prevPgid} ${framed(wrapper)}`;
}

/**
 * An interactive session: no markers (the user sees the terminal), just cwd
 * and the script, from the file `scriptFileText` wrote (its stdin is the
 * terminal, so the script cannot come that way, and the command line is no
 * place for it). Without a file (tests), env and script inline.
 */
export function interactiveWrapper(s: Omit<SessionScript, "token" | "noStdin">): string {
  const lines: string[] = [];
  if (s.cwd !== undefined) lines.push(`cd ${shWord(safePath(s.cwd))} || exit 1`);
  if (s.scriptFile !== undefined) {
    lines.push(`exec /bin/sh ${shWord(safePath(s.scriptFile))}`);
    return lines.join("\n");
  }
  const exports = exportLines(s.env);
  if (exports) lines.push(exports.trimEnd());
  lines.push(`exec /bin/sh -c ${shWord(s.script)}`);
  return lines.join("\n");
}

/** Write stdin to `file` (mode 600, never through a link or over a file already there). */
export function uploadScript(file: string): string {
  return `umask 077 && set -C && cat > ${shWord(file)}`;
}

/**
 * Kill process group `pgid`: TERM, then KILL whatever is left after about
 * `graceTenths` tenths of a second. `kill -SIG -PGID` is the one spelling
 * dash, bash and busybox all accept.
 */
export function killGroupScript(pgid: number, graceTenths = 10): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new TroupeError("E_TRANSPORT", `refusing to kill process group ${pgid}`);
  return [
    `kill -TERM -${pgid} 2>/dev/null || exit 0`,
    "i=0",
    `while kill -0 -${pgid} 2>/dev/null; do`,
    `  i=$((i+1)); [ "$i" -gt ${graceTenths} ] && break`,
    "  sleep 0.1 2>/dev/null || sleep 1",
    "done",
    `kill -KILL -${pgid} 2>/dev/null`,
    "exit 0",
  ].join("\n");
}

/** Unpack the tar on stdin into `dir`, created if missing; `gzip` when the stream is compressed. */
export function putScript(dir: string, gzip: boolean): string {
  const d = shWord(safePath(dir));
  return `mkdir -p ${d} && exec tar -x${gzip ? "z" : ""}of - -C ${d}`;
}

/** A gzip'd tar of `paths` (relative to `dir`) on stdout. */
export function getScript(dir: string, paths: readonly string[]): string {
  if (paths.length === 0) throw new TroupeError("E_USAGE", "get needs at least one path");
  const list = paths.map((p) => shWord(safePath(p))).join(" ");
  return `cd ${shWord(safePath(dir))} && exec tar -czf - ${list}`;
}
