// Logging into a machine troupe made itself (a qemu VM, a cloud instance) as
// its user with a password, over OpenSSH: nothing of the user's ssh_config
// applies, and the machine's host key is accepted into a known_hosts file of
// its own (in the run's directory), so a new machine at a reused address
// never meets the key of the one before.

import type { EventStream } from "../../report/events.js";
import { SshTransport } from "../../transport/ssh/index.js";
import { connect, transportOptions, type Connected, type ConnectOptions } from "./connect.js";

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

export function loginToMachine(m: MachineLogin): Promise<Connected> {
  const opts: ConnectOptions = {
    knownHostsFile: m.knownHostsFile,
    resolveConfig: () => Promise.resolve(new Map([["userknownhostsfile", "none"]])),
    factory: (conn) => {
      const t = transportOptions(conn);
      return new SshTransport({
        ...t,
        configFile: "/dev/null",
        options: { ...t.options, PreferredAuthentications: "password,keyboard-interactive,publickey" },
      });
    },
    ...(m.events ? { events: m.events } : {}),
    ...(m.signal ? { signal: m.signal } : {}),
  };
  return connect(
    {
      name: m.name,
      address: m.address,
      ...(m.port !== undefined ? { port: m.port } : {}),
      ...(m.user !== undefined ? { user: m.user } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
    },
    opts,
  );
}
