// The `ssh` backend: machines that already exist, reached with the OpenSSH
// client. A system stands for a list of hosts (see config.ts for the keys);
// each host is one worker, handed out from a pool so that a host freed by a
// discard can serve the system again. Nothing is created or destroyed on the
// machines except the project directory, which is removed at discard when
// troupe created it.

import { shWord } from "../../exec/shell-quote.js";
import type { Backend, System } from "../../model/project.js";
import { TroupeError, type Problem } from "../../util/errors.js";
import type { BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { useYamlInventoryReader, type Inventory } from "../inventory/index.js";
import { parseYamlInventory } from "../inventory/yaml.js";

import { sshSystemConfig, type SshSystemConfig } from "./config.js";
import { connect, openSshTransport, type ConnectOptions, type Connected, type SshTransportFactory } from "./connect.js";
import { ensureProjectKnownHosts } from "./known-hosts.js";
import { rebootEntry, type RebootableEntry, SwitchableTransport } from "./reboot.js";
import { resolveTargets, type SshTarget } from "./targets.js";

// The ssh backend reads inventories synchronously (its drivers are made
// synchronously): YAML ones too, so it loads their reader with itself.
useYamlInventoryReader(parseYamlInventory);

export interface SshDriverOptions {
  /** How to open an OpenSSH transport (default: the OpenSSH SshTransport). */
  readonly factory?: SshTransportFactory;
  /** `ssh -G` replacement, for tests. */
  readonly resolveConfig?: ConnectOptions["resolveConfig"];
  /** How long a REBOOT may take (default 10 minutes), and how often to try reconnecting (default 2 s). */
  readonly rebootTimeoutMs?: number;
  readonly rebootPollMs?: number;
}

export interface SshDriver extends BackendDriver {
  /** The machines a system stands for, in order. */
  targets(system: System): readonly SshTarget[];
}

interface SystemPool {
  readonly cfg: SshSystemConfig;
  readonly targets: readonly SshTarget[];
  readonly busy: Set<string>;
}

interface OpenHost {
  readonly host: Host;
  readonly pool: SystemPool;
  readonly target: SshTarget;
  readonly switcher: SwitchableTransport;
  conn: Connected;
  /** The project directory did not exist before: remove it at discard. */
  readonly ownsProjectDir: boolean;
}

export function sshTransportFactory(options: { factory?: SshTransportFactory }): SshTransportFactory {
  return options.factory ?? openSshTransport;
}

/** Build the driver; reads inventories now, so configuration mistakes show before any host is touched. */
export function createSshDriver(backend: Backend, ctx: BackendContext, options: SshDriverOptions = {}): SshDriver {
  const pools = new Map<string, SystemPool>();
  const inventories = new Map<string, Inventory>();
  const problems: Problem[] = [];
  let code: TroupeError["code"] | undefined;
  for (const system of backend.systems) {
    try {
      const cfg = sshSystemConfig(backend, system, ctx.projectDir);
      const defaults = {
        ...(system.username ? { user: system.username } : {}),
        ...(system.password ? { password: system.password } : {}),
      };
      const targets = resolveTargets(cfg, system.name, defaults, inventories);
      pools.set(system.name, { cfg, targets, busy: new Set() });
    } catch (e) {
      if (!(e instanceof TroupeError)) throw e;
      code ??= e.code;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new TroupeError(code ?? "E_SCHEMA", problems);

  const open = new Map<string, OpenHost>();
  const warned = new Set<string>();
  let knownHosts: Promise<string> | undefined;

  const poolOf = (system: System): SystemPool => {
    const p = pools.get(system.name);
    if (!p) throw new TroupeError("E_BACKEND", `backend ${backend.name} has no system ${system.name}`);
    return p;
  };

  const connectOptions = async (pool: SystemPool): Promise<ConnectOptions> => {
    knownHosts ??= ensureProjectKnownHosts(ctx.projectDir);
    return {
      knownHostsFile: await knownHosts,
      sshOptions: pool.cfg.sshOptions,
      ...(pool.cfg.sudo !== undefined ? { sudo: pool.cfg.sudo } : {}),
      factory: sshTransportFactory(options),
      events: ctx.events,
      ...(options.resolveConfig ? { resolveConfig: options.resolveConfig } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    };
  };

  /**
   * Connect to `target` (already marked busy) as host `name`, make its
   * project directory ready and keep the host open; on failure the target
   * is free again. `ownsProjectDir`: from a reuse record; else whether this
   * call made the directory (then discard removes it).
   */
  const openOn = async (system: System, pool: SystemPool, target: SshTarget, name: string, ownsProjectDir?: boolean): Promise<Host> => {
    let conn: Connected | undefined;
    try {
      conn = await connect(target, await connectOptions(pool));
      const made = await prepareProjectDir(conn, name, ctx.remotePath);
      const owns = ownsProjectDir ?? made;
      const switcher = new SwitchableTransport(conn.transport);
      const host: Host = {
        name,
        address: target.address,
        backend: backend.name,
        system: system.name,
        transport: switcher,
        projectPath: ctx.remotePath,
        data: {
          target: target.name,
          ...(target.port !== undefined ? { port: target.port } : {}),
          user: conn.user,
          sudo: conn.sudo,
          ...(owns ? { ownsProjectDir: true } : {}),
        },
      };
      open.set(name, { host, pool, target, switcher, conn, ownsProjectDir: owns });
      return host;
    } catch (e) {
      pool.busy.delete(target.name);
      await conn?.close().catch(() => undefined);
      throw e;
    }
  };

  /** Close `host`'s connection and free its machine; discard also removes the project directory troupe made. */
  const closeHost = async (host: Host, { removeProjectDir }: { removeProjectDir: boolean }): Promise<void> => {
    const entry = open.get(host.name);
    if (!entry) return;
    open.delete(host.name);
    try {
      if (removeProjectDir && entry.ownsProjectDir) {
        await entry.conn.transport.exec({ script: `rm -rf -- ${shWord(host.projectPath)}` }).catch(() => undefined);
      }
    } finally {
      await entry.conn.close().catch(() => undefined);
      entry.pool.busy.delete(entry.target.name);
    }
  };

  const driver: SshDriver = {
    type: "ssh",

    targets: (system) => poolOf(system).targets,

    workersFor(system: System): number {
      const pool = poolOf(system);
      const hosts = pool.targets.length;
      if (system.where["workers"] === undefined) return hosts;
      if (system.workers > hosts && !warned.has(system.name)) {
        warned.add(system.name);
        ctx.events.message(
          "warn",
          `${backend.name}:${system.name} has workers: ${system.workers} but only ${hosts} host(s); using ${hosts}`,
        );
      }
      return Math.min(system.workers, hosts);
    },

    async allocate(system: System, index: number): Promise<Host> {
      if (ctx.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
      const pool = poolOf(system);
      const preferred = pool.targets[index - 1];
      const target = preferred && !pool.busy.has(preferred.name) ? preferred : pool.targets.find((t) => !pool.busy.has(t.name));
      if (!target) {
        throw new TroupeError("E_BACKEND", `${backend.name}:${system.name}: all ${pool.targets.length} host(s) are in use`);
      }
      pool.busy.add(target.name);
      const name = open.has(target.name) ? `${target.name}-${system.name}` : target.name;
      ctx.events.emit({
        type: "host-step",
        step: "connecting",
        backend: backend.name,
        system: system.name,
        host: name,
        address: target.address,
      });
      return openOn(system, pool, target, name);
    },

    discard: (host: Host) => closeHost(host, { removeProjectDir: true }),

    // -reuse: the same machine of the system's list, connected again; whether
    // troupe made its project directory (removed at discard) is remembered.
    async reuse(system: System, recorded: RecordedHost): Promise<Host | undefined> {
      const pool = pools.get(system.name);
      const want = recorded.data?.["target"];
      const target = pool?.targets.find((t) => t.name === want) ?? pool?.targets.find((t) => t.address === recorded.address);
      if (!pool || !target) return undefined; // no longer one of the system's machines
      if (pool.busy.has(target.name)) throw new TroupeError("E_BACKEND", `${target.name} is already a host of this run`);
      pool.busy.add(target.name);
      // Whether troupe made the project directory is what the record says, not what this connection finds.
      return openOn(system, pool, target, recorded.name, recorded.data?.["ownsProjectDir"] === true);
    },

    // -reuse: the machine is kept as it is, project directory included.
    release: (host: Host) => closeHost(host, { removeProjectDir: false }),

    async reboot(host: Host): Promise<void> {
      const entry = open.get(host.name);
      if (!entry) throw new TroupeError("E_BACKEND", `${host.name} is not a host of backend ${backend.name}`);
      const opts = await connectOptions(entry.pool);
      await rebootEntry(entry as RebootableEntry<Connected>, {
        label: host.name,
        reconnect: () => connect(entry.target, opts),
        timeoutMs: options.rebootTimeoutMs ?? 10 * 60_000,
        pollMs: options.rebootPollMs ?? 2000,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    },

    async close(): Promise<void> {
      const all = [...open.values()];
      open.clear();
      await Promise.all(
        all.map(async (e) => {
          await e.conn.close().catch(() => undefined);
          e.pool.busy.delete(e.target.name);
        }),
      );
    },
  };
  return driver;
}

/**
 * Check the project directory: refuse a path that could wipe a machine, and
 * say whether troupe creates it (then it is removed at discard). A directory
 * that is already there is left alone at discard.
 */
async function prepareProjectDir(conn: Connected, name: string, path: string): Promise<boolean> {
  const normal = path.replace(/\/+$/, "");
  if (
    !path.startsWith("/") ||
    normal === "" ||
    /^\/(bin|boot|dev|etc|home|lib\w*|opt|proc|root|run|sbin|srv|sys|tmp|usr|var)?$/.test(normal)
  ) {
    throw new TroupeError("E_PROJECT", `${name}: the project path '${path}' must be an absolute path of its own, like /home/test/project`);
  }
  const out: Buffer[] = [];
  const r = await conn.transport.exec({
    script: `if [ -e ${shWord(path)} ]; then echo exists; else echo absent; fi`,
    onStdout: (c) => out.push(c),
  });
  if (r.exitCode !== 0) throw new TroupeError("E_BACKEND", `${name}: cannot check the project path ${path}`);
  return Buffer.concat(out).toString("utf8").trim() === "absent";
}
