// Reaching one machine over OpenSSH, shared by the ssh and adhoc backends:
// the options (the user's ssh_config honoured through `ssh -G`, new host keys
// only into the project's known_hosts, a password through SSH_ASKPASS), a
// first command that proves the connection and tells who we are, and root
// through password-less sudo when the user is not root (as Spread does).

import type { EventStream } from "../../report/events.js";
import type { Transport } from "../../transport/transport.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import { createAskpass, type Askpass } from "./askpass.js";
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
  /** Environment for the `ssh` process itself (SSH_ASKPASS for passwords). */
  readonly env: Readonly<Record<string, string>>;
  /** False when a password must be asked for (BatchMode would forbid it). */
  readonly batchMode: boolean;
}

export type SshTransportFactory = (conn: SshConnection) => Transport;

export interface ConnectOptions {
  readonly knownHostsFile: string;
  /** `-o` values from the project (`ProxyJump=bastion`). */
  readonly sshOptions?: readonly string[];
  /** true: always sudo; false: never; undefined: when the remote user is not root. */
  readonly sudo?: boolean;
  readonly factory: SshTransportFactory;
  readonly events?: EventStream;
  /** Where askpass helpers go (default the system's temp dir). */
  readonly askpassDir?: string;
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
  /** Release the connection and the askpass helper. */
  close(): Promise<void>;
}

/** The ssh options for a target (without connecting). */
export async function connectionFor(target: SshTarget, opts: ConnectOptions, askpass?: Askpass): Promise<SshConnection> {
  const userOpts = (opts.sshOptions ?? []).flatMap((o) => ["-o", o]);
  const resolve = opts.resolveConfig ?? defaultResolve;
  let resolved: ResolvedConfig | undefined;
  try {
    resolved = await resolve(target, userOpts);
  } catch {
    resolved = undefined; // `ssh -G` failing is not fatal: the defaults below still keep the user's file safe
  }
  const options = [...hostKeyOptions(opts.knownHostsFile, resolved), ...userOpts, ...(askpass?.options ?? [])];
  const conn: { -readonly [K in keyof SshConnection]: SshConnection[K] } = {
    label: target.name,
    host: target.address,
    knownHostsFile: opts.knownHostsFile,
    options,
    env: askpass?.env ?? {},
    batchMode: askpass === undefined,
  };
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
  const askpass = target.password !== undefined && target.password !== "" ? await createAskpass(target.password, opts.askpassDir) : undefined;
  let raw: Transport | undefined;
  try {
    const conn = await connectionFor(target, opts, askpass);
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
        const why = verdict === "SUDO_MISSING" ? "sudo is not installed" : `sudo asks for a password (${lines.slice(2).filter((l) => !l.startsWith("SUDO_")).join(" ").trim() || "sudo -n true failed"})`;
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
        try {
          await rawConn.close();
        } finally {
          await askpass?.dispose();
        }
      },
    };
  } catch (e) {
    await raw?.close().catch(() => undefined);
    await askpass?.dispose();
    if (isTroupeError(e)) throw e;
    throw new TroupeError("E_TRANSPORT", `cannot connect to ${target.name}: ${(e as Error).message}`);
  }
}
