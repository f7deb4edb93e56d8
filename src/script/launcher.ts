// Scripts written for bash, on transports that start /bin/sh: a few lines of
// POSIX sh find bash (/bin/bash as Spread uses it, else bash on the PATH) and
// hand it the script on its stdin, as Spread runs `bash -`, so that nothing
// of the script or its values reaches any process's arguments. A transport
// that can start bash itself (the local runner) takes the script back out
// with `bashBody` and saves the sh in between.

/** Exit status of a bash script on a host without bash (as a shell's "command not found"). */
export const NO_BASH_STATUS = 127;

/** Sets `troupe_bash`, or says there is no bash and exits with NO_BASH_STATUS. */
export const FIND_BASH =
  `if [ -x /bin/bash ]; then troupe_bash=/bin/bash; ` +
  `else troupe_bash=$(command -v bash) || { echo "troupe: no bash on this host; the project's scripts are written for bash ` +
  `(install it, or set shell: sh in troupe.yaml)" >&2; exit ${NO_BASH_STATUS}; }; fi`;

const END = "TROUPE_SCRIPT_END";

/** `body` for bash, as a POSIX sh script that hands it to bash on stdin. */
export function inBash(body: string): string {
  let end = END;
  // A line of the body that is the delimiter would end the here-document early.
  const isLine = (word: string): boolean =>
    body === word || body.startsWith(`${word}\n`) || body.includes(`\n${word}\n`) || body.endsWith(`\n${word}`);
  for (let n = 1; isLine(end); n++) end = `${END}_${n}`;
  return `${FIND_BASH}\nexec "$troupe_bash" -s <<'${end}'\n${body.endsWith("\n") ? body : body + "\n"}${end}\n`;
}

/** The body `inBash` wrapped, or undefined when `text` is not such a script. */
export function bashBody(text: string): string | undefined {
  const head = `${FIND_BASH}\nexec "$troupe_bash" -s <<'`;
  if (!text.startsWith(head)) return undefined;
  const open = text.indexOf("'\n", head.length);
  if (open < 0) return undefined;
  const end = text.slice(head.length, open);
  const tail = `\n${end}\n`;
  if (!/^TROUPE_SCRIPT_END(_\d+)?$/.test(end) || !text.endsWith(tail)) return undefined;
  return text.slice(open + 2, text.length - tail.length + 1);
}

/** Where a shell finds its script (scriptFromEnv). */
export const SCRIPT_VAR = "TROUPE_SCRIPT_TEXT";

/** A shell's `-c` text that runs the script in SCRIPT_VAR, unsetting it first. */
export const SCRIPT_FROM_ENV = `troupe_script=$${SCRIPT_VAR}; unset ${SCRIPT_VAR}; eval "$troupe_script"`;

/**
 * The arguments and environment of a shell on this machine that runs
 * `script` without it being in the shell's arguments (`ps -eo args` shows
 * those to every user; a process's environment only to its own user and
 * root). The shell takes the script out of its environment, so that what it
 * starts does not inherit it, and runs it in place with `eval`.
 */
export function scriptFromEnv(script: string): { readonly args: string[]; readonly env: Record<string, string> } {
  return {
    args: ["-c", SCRIPT_FROM_ENV],
    env: { [SCRIPT_VAR]: script },
  };
}
