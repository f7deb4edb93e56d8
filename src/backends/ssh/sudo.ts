// Root through password-less sudo, as Spread does for a non-root `username`
// (spread/client.go prefixes every remote command with sudo). This wraps any
// Transport: scripts, put and get run as root with `sudo -n` (never a
// password prompt that would hang; a clear failure instead).
//
// Unlike Spread, the script is not fed to `sudo -i` on stdin (stdin belongs to
// the script) and `-i`'s argument escaping breaks multi-line scripts, so it is
// `sudo -n -H -- /bin/sh -c SCRIPT`, with the environment and the working
// directory set inside SCRIPT (sudo's env_reset drops the caller's) and the
// SUDO_* variables unset as Spread does.
//
// Killing: the user cannot signal root's processes, so on abort the wrapper
// asks sudo to kill every process whose environment carries this run's token
// (TROUPE_SUDO_TOKEN), wherever it moved in the process tree, then the inner
// transport's own kill reaches the user's side.

import { shWord } from "../../exec/shell-quote.js";
import { randomBytes } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import type { ExecOptions, ExecResult, Transport } from "../../transport/transport.js";
import { TroupeError } from "../../util/errors.js";
import { peek } from "../../transport/peek.js";
import { getScript, putScript, safePath } from "../../transport/ssh/index.js";

/** After SIGTERM through sudo, how long before SIGKILL. */
const KILL_GRACE_MS = 1000;

export const SUDO = "sudo -n -H --";

/**
 * Build the user-side script that runs `script` as root with `env` and `cwd`.
 * `prefix` is what runs the shell elsewhere: sudo, or `docker exec -i C` (a
 * cloud machine's experiment container, cloud/experiment.ts).
 */
export function sudoScript(
  script: string,
  env?: Readonly<Record<string, string>>,
  cwd?: string,
  token?: string,
  prefix: string = SUDO,
): string {
  const inner: string[] = ["unset SUDO_COMMAND SUDO_USER SUDO_UID SUDO_GID"];
  if (token !== undefined) inner.push(`TROUPE_SUDO_TOKEN=${checkToken(token)}; export TROUPE_SUDO_TOKEN`);
  for (const [k, v] of Object.entries(env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TroupeError("E_USAGE", `invalid environment variable name '${k}'`);
    inner.push(`${k}=${shWord(v)}; export ${k}`);
  }
  if (cwd) inner.push(`cd ${shWord(safePath(cwd))} || exit 1`);
  inner.push(script);
  return `exec ${prefix} /bin/sh -c ${shWord(inner.join("\n"))}`;
}

/**
 * The token goes into shell text unquoted (`TROUPE_SUDO_TOKEN=TOKEN`) and
 * inside a script that is itself quoted: only letters and digits, so that
 * there is nothing to quote.
 */
function checkToken(token: string): string {
  if (!/^[A-Za-z0-9]+$/.test(token))
    throw new TroupeError("E_USAGE", `invalid sudo kill token ${JSON.stringify(token)}: letters and digits only`);
  return token;
}

/** A root shell script that kills every process carrying `token` in its environment. */
export function killByTokenScript(token: string, signal: "TERM" | "KILL", prefix: string = SUDO): string {
  const script = [
    `for p in /proc/[0-9]*; do`,
    `  [ "\${p#/proc/}" = "$$" ] && continue`,
    `  if tr '\\000' '\\n' < "$p/environ" 2>/dev/null | grep -qx ${shWord(`TROUPE_SUDO_TOKEN=${checkToken(token)}`)}; then kill -${signal} "\${p#/proc/}" 2>/dev/null; fi`,
    `done`,
    `exit 0`,
  ].join("\n");
  return `${prefix} /bin/sh -c ${shWord(script)}`;
}

export class SudoTransport implements Transport {
  readonly label: string;

  /** `prefix` and `as`: how scripts are run, and how messages say so (another prefix: see sudoScript). */
  constructor(
    private readonly inner: Transport,
    private readonly prefix: string = SUDO,
    private readonly as: string = "as root",
  ) {
    this.label = inner.label;
  }

  async exec(options: ExecOptions): Promise<ExecResult> {
    const token = randomBytes(8).toString("hex");
    const innerAbort = new AbortController();
    let killing: Promise<void> | undefined;
    const onAbort = (): void => {
      killing ??= this.killToken(token).finally(() => innerAbort.abort());
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const { env: _env, cwd: _cwd, signal: _signal, ...rest } = options;
      const result = await this.inner.exec({
        ...rest,
        script: sudoScript(options.script, options.env, options.cwd, token, this.prefix),
        signal: innerAbort.signal,
      });
      if (killing) await killing;
      return result;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  private async killToken(token: string): Promise<void> {
    try {
      await this.inner.exec({ script: killByTokenScript(token, "TERM", this.prefix) });
      await new Promise((r) => setTimeout(r, KILL_GRACE_MS));
      await this.inner.exec({ script: killByTokenScript(token, "KILL", this.prefix) });
    } catch {
      /* the connection may be gone; the inner transport's own kill still runs */
    }
  }

  async put(tar: Readable, dir: string): Promise<void> {
    const stderr: Buffer[] = [];
    // A tar stream, gzip'd or not, as the inner transport's put takes it.
    const { head, rest } = await peek(tar, 2);
    const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    const result = await this.exec({
      script: putScript(dir, gzip),
      stdin: rest,
      onStderr: (c) => stderr.push(c),
    });
    if (result.exitCode !== 0) {
      throw new TroupeError(
        "E_TRANSPORT",
        `${this.label}: cannot unpack into ${dir} ${this.as}: ${Buffer.concat(stderr).toString("utf8").trim() || `exit status ${result.exitCode}`}`,
      );
    }
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    const out = new PassThrough();
    const stderr: Buffer[] = [];
    this.exec({
      script: getScript(dir, paths.length === 0 ? ["."] : paths),
      onStdout: (c) => out.write(c),
      onStderr: (c) => stderr.push(c),
    }).then(
      (r) => {
        if (r.exitCode !== 0) {
          const text = Buffer.concat(stderr).toString("utf8").trim();
          out.destroy(
            new TroupeError("E_TRANSPORT", `${this.label}: cannot read ${dir} ${this.as}: ${text || `exit status ${r.exitCode}`}`),
          );
        } else out.end();
      },
      (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))),
    );
    return out;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
