// Logging into a machine troupe made itself (a qemu VM, a cloud instance)
// over OpenSSH: nothing of the user's ssh_config applies (configFile
// /dev/null, no user known_hosts), and the machine's host key is accepted
// into a known_hosts file of its own (in the run's directory), so a new
// machine at a reused address never meets the key of the one before. The
// two ways in differ only in how the machine lets us in: a password (qemu,
// google: the session's) or a key (ec2: the run's own), which also fails
// fast (BatchMode, short timeouts) so that a machine still booting is tried
// again.

import type { EventStream } from "../../report/events.js";
import { SshTransport } from "../../transport/ssh/index.js";
import { connect, transportOptions, type Connected, type ConnectOptions } from "./connect.js";

export interface MachineConnect {
  /** The machine's own known_hosts file. */
  readonly knownHostsFile: string;
  /** How the machine lets us in: the login's password, or its identity file (key). */
  readonly auth: "password" | "key";
  readonly events?: EventStream;
  readonly signal?: AbortSignal;
}

/** ConnectOptions for a machine troupe made. */
export function machineConnectOptions(m: MachineConnect): ConnectOptions {
  const byKey = m.auth === "key";
  return {
    knownHostsFile: m.knownHostsFile,
    // The machine is troupe's: nothing of the user's ssh_config applies.
    resolveConfig: () => Promise.resolve(new Map([["userknownhostsfile", "none"]])),
    factory: (conn) => {
      const t = transportOptions(conn);
      return new SshTransport({
        ...t,
        configFile: "/dev/null",
        ...(byKey ? { identitiesOnly: true, connectTimeout: 15, aliveInterval: 15 } : {}),
        options: {
          ...t.options,
          ...(byKey
            ? { PreferredAuthentications: "publickey", BatchMode: "yes" }
            : { PreferredAuthentications: "password,keyboard-interactive,publickey" }),
        },
      });
    },
    ...(m.events ? { events: m.events } : {}),
    ...(m.signal ? { signal: m.signal } : {}),
  };
}

export interface MachineLogin {
  /** The host's name in the run, for messages. */
  readonly name: string;
  readonly address: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  /** The machine's own known_hosts file. */
  readonly knownHostsFile: string;
  readonly events?: EventStream;
  readonly signal?: AbortSignal;
}

/** Log in with a password. */
export function loginToMachine(m: MachineLogin): Promise<Connected> {
  return connect(
    {
      name: m.name,
      address: m.address,
      ...(m.port !== undefined ? { port: m.port } : {}),
      ...(m.user !== undefined ? { user: m.user } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
    },
    machineConnectOptions({ ...m, auth: "password" }),
  );
}
