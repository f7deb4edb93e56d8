// Reaching one machine over OpenSSH, shared by the ssh and adhoc backends:
// the options (the user's ssh_config honoured through `ssh -G`, new host keys
// only into the project's known_hosts, a password that the transport hands to
// ssh through its SSH_ASKPASS helper, never sshpass), a
// first command that proves the connection and tells who we are, and root
// through password-less sudo when the user is not root (as Spread does).

import type { EventStream } from "../../report/events.js";
import { SshTransport, type SshTransportOptions } from "../../transport/ssh/index.js";
import type { Transport } from "../../transport/transport.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import { hostKeyOptions, resolveSshConfig, type ResolvedConfig } from "./known-hosts.js";
import { SudoTransport } from "./sudo.js";
import type { SshTarget } from "./targets.js";

/** Everything an OpenSSH transport needs to reach one host. */
export interface SshConnection {
  /** For messages: the host's name in the run. */
  readonly label: string;
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly identityFile?: string;
  /** The project's known_hosts; new keys go there only (already in `options`). */
  readonly knownHostsFile: string;
  /** `ssh` arguments, as pairs `-o Key=Value`. */
  readonly options: readonly string[];
  /** Answered to ssh's password prompt (SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force). */
  readonly password?: string;
}

export type SshTransportFactory = (conn: SshConnection) => Transport;

/** The OpenSSH transport (src/transport/ssh) for a connection. */
export const openSshTransport: SshTransportFactory = (conn) => new SshTransport(transportOptions(conn));

/**
 * SshTransportOptions for a connection. Host keys are passed as plain `-o`
 * options, not as the transport's `knownHostsFile` (which replaces the user's
 * files and drops the global one): here the user's files still count.
 */
export function transportOptions(conn: SshConnection): SshTransportOptions {
  const options: Record<string, string> = {};
  for (let i = 0; i < conn.options.length; i++) {
    const item = conn.options[i] ?? "";
    if (item === "-o") continue;
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=|\s)\s*(.*)$/.exec(item);
    if (!m || !m[1]) throw new TroupeError("E_SCHEMA", `${conn.label}: '${item}' is not an ssh option like ProxyJump=bastion`);
    // ssh keeps the first value given for an option; so does this.
    const key = Object.keys(options).find((k) => k.toLowerCase() === m[1]?.toLowerCase()) ?? m[1];
    options[key] ??= m[2] ?? "";
  }
  return {
    label: conn.label,
    host: conn.host,
    ...(conn.port !== undefined ? { port: conn.port } : {}),
    ...(conn.user !== undefined ? { user: conn.user } : {}),
    ...(conn.identityFile !== undefined ? { identityFile: conn.identityFile } : {}),
    ...(conn.password !== undefined ? { password: conn.password } : {}),
    options,
  };
}

export interface ConnectOptions {
  readonly knownHostsFile: string;
  /** `-o` values from the project (`ProxyJump=bastion`). */
  readonly sshOptions?: readonly string[];
  /** true: always sudo; false: never; undefined: when the remote user is not root. */
  readonly sudo?: boolean;
  readonly factory: SshTransportFactory;
  readonly events?: EventStream;
  /** `ssh -G` (tests replace it). */
  readonly resolveConfig?: (target: SshTarget, options: readonly string[]) => Promise<ResolvedConfig | undefined>;
  readonly signal?: AbortSignal;
}

export interface Connected {
  /** Runs everything as root (sudo-wrapped when needed). */
  readonly transport: Transport;
  /** The plain connection, as the login user. */
  readonly raw: Transport;
  readonly uid: number;
  readonly user: string;
  readonly sudo: boolean;
  /** Release the connection. */
  close(): Promise<void>;
}

/** The ssh options for a target (without connecting). */
export async function connectionFor(target: SshTarget, opts: ConnectOptions): Promise<SshConnection> {
  const userOpts = (opts.sshOptions ?? []).flatMap((o) => ["-o", o]);
  const resolve = opts.resolveConfig ?? defaultResolve;
  let resolved: ResolvedConfig | undefined;
  try {
    resolved = await resolve(target, userOpts);
  } catch {
    resolved = undefined; // `ssh -G` failing is not fatal: the defaults below still keep the user's file safe
  }
  const options = [...hostKeyOptions(opts.knownHostsFile, resolved), ...userOpts];
  const conn: { -readonly [K in keyof SshConnection]: SshConnection[K] } = {
    label: target.name,
    host: target.address,
    knownHostsFile: opts.knownHostsFile,
    options,
  };
  if (target.password !== undefined && target.password !== "") conn.password = target.password;
  if (target.port !== undefined) conn.port = target.port;
  if (target.user !== undefined) conn.user = target.user;
  if (target.identityFile !== undefined) conn.identityFile = target.identityFile;
  return conn;
}

async function defaultResolve(target: SshTarget, options: readonly string[]): Promise<ResolvedConfig | undefined> {
  return resolveSshConfig(
    {
      host: target.address,
      ...(target.port !== undefined ? { port: target.port } : {}),
      ...(target.user !== undefined ? { user: target.user } : {}),
    },
    options,
  );
}

const PROBE = [
  "id -u",
  "id -un",
  'if [ "$(id -u)" != 0 ] && [ "$TROUPE_WANT_SUDO" = yes ]; then',
  "  if command -v sudo >/dev/null 2>&1; then sudo -n true 2>&1 && echo SUDO_OK || echo SUDO_NO; else echo SUDO_MISSING; fi",
  "fi",
].join("\n");

/** Connect, check who we are, and wrap in sudo when the user is not root. */
export async function connect(target: SshTarget, opts: ConnectOptions): Promise<Connected> {
  let raw: Transport | undefined;
  try {
    const conn = await connectionFor(target, opts);
    raw = opts.factory(conn);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const result = await raw.exec({
      script: PROBE,
      env: { TROUPE_WANT_SUDO: opts.sudo === false ? "no" : "yes" },
      onStdout: (c) => out.push(c),
      onStderr: (c) => err.push(c),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const stderr = Buffer.concat(err).toString("utf8").trim();
    if (result.exitCode === 255) {
      throw new TroupeError("E_TRANSPORT", `cannot connect to ${target.name}: ${stderr || "ssh failed"}`);
    }
    const lines = Buffer.concat(out).toString("utf8").trim().split("\n");
    const uid = Number(lines[0]);
    if (result.exitCode !== 0 || !Number.isInteger(uid)) {
      throw new TroupeError(
        "E_BACKEND",
        `${target.name}: the first command failed (exit status ${result.exitCode}): ${stderr || lines.join(" ")}; a host needs a POSIX sh and id`,
      );
    }
    const user = lines[1] ?? String(uid);
    const verdict = lines.slice(2).find((l) => l.startsWith("SUDO_"));
    let sudo = false;
    if (uid !== 0 && opts.sudo !== false) {
      if (verdict !== "SUDO_OK") {
        const why =
          verdict === "SUDO_MISSING"
            ? "sudo is not installed"
            : `sudo asks for a password (${
                lines
                  .slice(2)
                  .filter((l) => !l.startsWith("SUDO_"))
                  .join(" ")
                  .trim() || "sudo -n true failed"
              })`;
        throw new TroupeError(
          "E_BACKEND",
          `${target.name}: user ${user} is not root and ${why}; troupe runs scripts as root through password-less sudo, as Spread does ` +
            `(allow it with a sudoers line like '${user} ALL=(ALL) NOPASSWD: ALL'), or set sudo: false on the system to run as ${user}`,
        );
      }
      sudo = true;
    } else if (opts.sudo === true && uid !== 0) {
      sudo = true;
    }
    const transport = sudo ? new SudoTransport(raw) : raw;
    const rawConn = raw;
    let closed = false;
    return {
      transport,
      raw: rawConn,
      uid,
      user,
      sudo,
      async close() {
        if (closed) return;
        closed = true;
        await rawConn.close();
      },
    };
  } catch (e) {
    await raw?.close().catch(() => undefined);
    if (isTroupeError(e)) throw e;
    throw new TroupeError("E_TRANSPORT", `cannot connect to ${target.name}: ${(e as Error).message}`);
  }
}
