// Test doubles for the ssh/adhoc drivers: a transport factory that records the
// SshConnection it was given and runs scripts on this machine, optionally
// answering the connection probe as a non-root user.

import type { Backend, System } from "../../../src/model/project.js";
import { EventStream, type TroupeEvent } from "../../../src/report/events.js";
import type { SshConnection, SshTransportFactory } from "../../../src/backends/ssh/index.js";
import { LocalTransport } from "../../../src/transport/local.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/transport.js";

export interface Recorder {
  readonly factory: SshTransportFactory;
  readonly connections: SshConnection[];
  /** Passwords handed to the transport. */
  readonly passwords: string[];
  closed: number;
}

export interface FakeOptions {
  /** Answer the probe (`id -u` ...) with this text instead of running it. */
  readonly probe?: string;
  /** Exit status of every script (e.g. 255 for a dead connection). */
  readonly exitCode?: number;
  /** Throw this from exec. */
  readonly throws?: Error;
}

export function recorder(opts: FakeOptions = {}): Recorder {
  const rec: Recorder = {
    connections: [],
    passwords: [],
    closed: 0,
    factory: (conn) => {
      rec.connections.push(conn);
      if (conn.password !== undefined) rec.passwords.push(conn.password);
      const local = new LocalTransport({ label: conn.label });
      const t: Transport = {
        label: conn.label,
        async exec(o: ExecOptions): Promise<ExecResult> {
          if (opts.throws) throw opts.throws;
          if (opts.exitCode !== undefined) return { exitCode: opts.exitCode, signal: null };
          if (opts.probe !== undefined && o.script.startsWith("id -u")) {
            o.onStdout?.(Buffer.from(opts.probe));
            return { exitCode: 0, signal: null };
          }
          return local.exec(o);
        },
        put: (tar, dir) => local.put(tar, dir),
        get: (dir, paths) => local.get(dir, paths),
        async close() {
          rec.closed++;
          await local.close();
        },
      };
      return t;
    },
  };
  return rec;
}

export function events(): { stream: EventStream; seen: TroupeEvent[] } {
  const stream = new EventStream();
  const seen: TroupeEvent[] = [];
  stream.on((e) => seen.push(e));
  return { stream, seen };
}

const POS = { file: "troupe.yaml", line: 1, col: 1 };

export function system(name: string, extra: Record<string, unknown> = {}, more: Partial<System> = {}): System {
  return {
    name,
    backend: "fleet",
    image: name,
    workers: 1,
    pos: POS,
    where: {},
    environment: [],
    extra,
    ...more,
  };
}

export function backend(type: string, systems: System[], more: Partial<Backend> = {}): Backend {
  return {
    name: "fleet",
    type,
    pos: POS,
    where: {},
    environment: [],
    systems: systems.map((s) => ({ ...s, backend: more.name ?? "fleet" })),
    extra: {},
    ...more,
  };
}
