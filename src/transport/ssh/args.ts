// Command lines for OpenSSH's `ssh`: the master connection, the sessions
// multiplexed over it, and control requests. Pure functions: no I/O.

import { TroupeError } from "../../util/errors.js";

/** Where and how to connect. Unset fields come from the user's ssh_config. */
export interface SshTarget {
  /** Host name or address, as `ssh` would take it (may be an ssh_config alias). */
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  /** A private key file (`-i`); with `identitiesOnly`, the agent's keys are not offered. */
  readonly identityFile?: string;
  readonly identitiesOnly?: boolean;
  /** A known_hosts file used instead of the user's (UserKnownHostsFile). */
  readonly knownHostsFile?: string;
  /** StrictHostKeyChecking; `ssh`'s own default (from ssh_config) when unset. */
  readonly strictHostKeyChecking?: "yes" | "no" | "accept-new" | "ask";
  /** An ssh_config file used instead of the user's (`-F`); `/dev/null` ignores every config file. */
  readonly configFile?: string;
  /**
   * Extra `-o Key=Value` options. They come first on the command line, and ssh
   * keeps the first value it sees, so they win over troupe's own defaults;
   * the Control* options are troupe's and are ignored here.
   */
  readonly options?: Readonly<Record<string, string>>;
  /** Whether a password is given (the askpass helper then answers prompts). */
  readonly withPassword?: boolean;
  /** Seconds for the TCP connect (ConnectTimeout); default 15. */
  readonly connectTimeout?: number;
  /** Seconds between keep-alive probes on the master (ServerAliveInterval); default 15. */
  readonly aliveInterval?: number;
}

function opt(key: string, value: string): string[] {
  return ["-o", `${key}=${value}`];
}

/** Options every invocation gets: which config, which host, which user. */
export function commonArgs(t: SshTarget): string[] {
  if (t.host === "" || t.host.startsWith("-") || /\s/.test(t.host)) {
    throw new TroupeError("E_USAGE", `invalid SSH host ${JSON.stringify(t.host)}`);
  }
  const args: string[] = [];
  if (t.configFile !== undefined) args.push("-F", t.configFile);
  if (t.port !== undefined) {
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new TroupeError("E_USAGE", `invalid SSH port ${t.port}`);
    args.push("-p", String(t.port));
  }
  if (t.user !== undefined) {
    if (t.user === "" || t.user.startsWith("-")) throw new TroupeError("E_USAGE", `invalid SSH user ${JSON.stringify(t.user)}`);
    args.push("-l", t.user);
  }
  return args;
}

/** Authentication and host-key options: only the master authenticates. */
function authArgs(t: SshTarget): string[] {
  const args: string[] = [];
  if (t.identityFile !== undefined) args.push("-i", t.identityFile);
  if (t.identitiesOnly) args.push(...opt("IdentitiesOnly", "yes"));
  if (t.knownHostsFile !== undefined) {
    args.push(...opt("UserKnownHostsFile", t.knownHostsFile), ...opt("GlobalKnownHostsFile", "/dev/null"));
    // Our own file: never rewrite or hash it.
    args.push(...opt("UpdateHostKeys", "no"), ...opt("HashKnownHosts", "no"));
  }
  if (t.strictHostKeyChecking !== undefined) args.push(...opt("StrictHostKeyChecking", t.strictHostKeyChecking));
  if (t.withPassword) {
    args.push(...opt("BatchMode", "no"), ...opt("NumberOfPasswordPrompts", "1"));
  } else {
    args.push(...opt("BatchMode", "yes"));
  }
  return args;
}

/** Options the transport's multiplexing depends on. */
const RESERVED = new Set(["controlmaster", "controlpath", "controlpersist"]);

function extraArgs(t: SshTarget): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(t.options ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(k)) throw new TroupeError("E_USAGE", `invalid SSH option name ${JSON.stringify(k)}`);
    if (RESERVED.has(k.toLowerCase())) continue;
    args.push(...opt(k, v));
  }
  return args;
}

/**
 * The master: authenticates, creates the control socket, runs no command,
 * stays in the foreground until told to exit.
 */
export function masterArgs(t: SshTarget, controlPath: string): string[] {
  return [
    ...extraArgs(t),
    ...commonArgs(t),
    ...authArgs(t),
    "-M",
    "-N",
    "-S",
    controlPath,
    ...opt("ControlPersist", "no"),
    ...opt("ConnectTimeout", String(t.connectTimeout ?? 15)),
    ...opt("ServerAliveInterval", String(t.aliveInterval ?? 15)),
    ...opt("ServerAliveCountMax", "4"),
    ...opt("ExitOnForwardFailure", "yes"),
    ...opt("ForwardAgent", "no"),
    ...opt("ForwardX11", "no"),
    ...opt("ClearAllForwardings", "yes"),
    "--",
    t.host,
  ];
}

/** A session over the master. `tty` asks for a terminal (`-t`); `noStdin` reads /dev/null (`-n`). */
export function sessionArgs(t: SshTarget, controlPath: string, command: string, mode: { tty?: boolean; noStdin?: boolean } = {}): string[] {
  return [
    ...extraArgs(t),
    ...commonArgs(t),
    "-S",
    controlPath,
    ...opt("ControlMaster", "no"),
    // Should the master be gone, fail instead of asking anything.
    ...opt("BatchMode", "yes"),
    ...opt("ConnectTimeout", String(t.connectTimeout ?? 15)),
    mode.tty ? "-t" : "-T",
    ...(mode.noStdin ? ["-n"] : []),
    "--",
    t.host,
    command,
  ];
}

/**
 * A connection of its own that runs one command and ends: authenticates like
 * the master, shares nothing (no ControlMaster, whatever ssh_config says).
 * For a host that gets one command, as pdsh does: one `ssh` process, where a
 * master costs three (master, session, `-O exit`).
 */
export function directArgs(t: SshTarget, command: string, mode: { tty?: boolean; noStdin?: boolean } = {}): string[] {
  return [
    ...extraArgs(t),
    ...commonArgs(t),
    ...authArgs(t),
    ...opt("ControlMaster", "no"),
    ...opt("ControlPath", "none"),
    ...opt("ConnectTimeout", String(t.connectTimeout ?? 15)),
    ...opt("ServerAliveInterval", String(t.aliveInterval ?? 15)),
    ...opt("ServerAliveCountMax", "4"),
    ...opt("ForwardAgent", "no"),
    ...opt("ForwardX11", "no"),
    ...opt("ClearAllForwardings", "yes"),
    mode.tty ? "-t" : "-T",
    ...(mode.noStdin ? ["-n"] : []),
    "--",
    t.host,
    command,
  ];
}

/** `ssh -O check|exit` for the master behind `controlPath`. */
export function controlArgs(t: SshTarget, controlPath: string, op: "check" | "exit"): string[] {
  return [...commonArgs(t), "-S", controlPath, "-O", op, "--", t.host];
}
