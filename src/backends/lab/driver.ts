// The lab backend: throwaway hosts on this Linux machine, each with its own
// network namespace and address, hostname, copy-on-write view of `/`,
// process tree and sshd, reached over SSH like any remote host.
//
// backend/system keys understood (all optional):
//   tmpfs-size: size limit of each host's writable layer (default "50%")
//   boot-timeout: seconds sshd may take to answer (default 30)
//   password (system): root's password on the host; enables password logins

import { copyFile, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Backend, System } from "../../model/project.js";
import { InProcessSshTransport } from "../../transport/inprocess-ssh/index.js";
import { SshTransport, type SshTransportOptions } from "../../transport/ssh/index.js";
import type { Transport } from "../../transport/transport.js";
import type { Semaphore } from "../../transport/ssh/limiter.js";
import { TroupeError } from "../../util/errors.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { checkLabSupport, createHost, destroyHost, rebootHost, slotNames } from "./host.js";
import { DEFAULT_STATE_DIR, hostnameFor, hostPaths, labPaths } from "./layout.js";
import { isRunning, killId, selfId } from "./procs.js";
import { listRecords, readRecord, writeRecord, type LabHostRecord } from "./records.js";
import { teardownScript } from "./scripts.js";
import { ExitSweep } from "../../util/exit-sweep.js";

export interface LabDriverOptions {
  /** The lab's state directory (default /run/troupe-lab); one per machine. */
  readonly stateDir?: string;
  /** Limits connection setup (default: the process-wide handshake limiter). */
  readonly handshakes?: Semaphore;
}

/** What the lab driver needs of a host's transport. */
export type LabTransport = Transport & {
  connect(signal?: AbortSignal): Promise<void>;
  /** Kill running scripts and drop the connection; the next call connects again. */
  reset(): Promise<void>;
};

/**
 * A transport to a lab host: the lab's key, the host's own key, nothing from
 * the user's ssh config. By default an in-process SSH client: lab hosts are
 * many and on this machine, where an `ssh` process per host (about 10 ms of
 * CPU each) is what a fleet spends most on. TROUPE_LAB_SSH=openssh uses the
 * OpenSSH client instead. `how` picks the connection's use (see
 * SshTransportOptions), for `troupe exec` and the fan-out API; the
 * in-process client heeds `commandSession` (it has no master to share or not).
 */
export function labTransport(
  stateDir: string,
  rec: LabHostRecord,
  handshakes?: Semaphore,
  how: Pick<SshTransportOptions, "shareConnection" | "commandSession"> = {},
): LabTransport {
  const client = labSshClient();
  if (client === "openssh") return openSshLabTransport(stateDir, rec, handshakes, how);
  return new InProcessSshTransport({
    ...(how.commandSession ? { commandSession: true } : {}),
    label: rec.name,
    host: rec.address,
    user: "root",
    privateKey: readFileSync(labPaths(stateDir).keyFile),
    hostKeys: rec.hostKey ? [rec.hostKey] : knownHostLines(hostPaths(stateDir, rec.slot).knownHosts),
    // The lab's sshd allows 128 sessions per connection.
    maxSessions: 100,
    // Hosts are on this machine: a SYN goes unanswered only when the host is
    // not there (the kernel resends it after 1 s, so 3 s allows for a lost
    // one); be as quick to notice a dead connection.
    tcpConnectTimeout: 3,
    connectTimeout: 5,
    aliveInterval: 5,
    // A throwaway host on this machine: the classic key exchange costs a fraction
    // of the post-quantum hybrid, which counts when 200 hosts connect at once.
    kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"],
    // A terminal needs a real ssh.
    interactive: () => openSshLabTransport(stateDir, rec, handshakes, { shareConnection: false }),
    ...(handshakes ? { handshakes } : {}),
  });
}

/** Which SSH client reaches lab hosts: TROUPE_LAB_SSH (`inprocess`, the default, or `openssh`). */
export function labSshClient(): "inprocess" | "openssh" {
  const v = process.env["TROUPE_LAB_SSH"];
  if (v === undefined || v === "" || v === "inprocess") return "inprocess";
  if (v === "openssh") return "openssh";
  throw new TroupeError("E_USAGE", `TROUPE_LAB_SSH must be inprocess or openssh, not ${JSON.stringify(v)}`);
}

function knownHostLines(file: string): string[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
  } catch (err) {
    throw new TroupeError(
      "E_BACKEND",
      `lab: cannot read the host key in ${file}: ${(err as Error).message}; \`troupe lab gc\` removes hosts left broken`,
    );
  }
}

/** The OpenSSH transport to a lab host. */
export function openSshLabTransport(
  stateDir: string,
  rec: LabHostRecord,
  handshakes: Semaphore | undefined,
  how: Pick<SshTransportOptions, "shareConnection" | "commandSession">,
): SshTransport {
  return new SshTransport({
    ...how,
    label: rec.name,
    host: rec.address,
    port: 22,
    user: "root",
    configFile: "/dev/null",
    identityFile: labPaths(stateDir).keyFile,
    identitiesOnly: true,
    knownHostsFile: hostPaths(stateDir, rec.slot).knownHosts,
    strictHostKeyChecking: "yes",
    maxSessions: 100,
    connectTimeout: 5,
    aliveInterval: 5,
    options: { KexAlgorithms: "curve25519-sha256" },
    ...(handshakes ? { handshakes } : {}),
  });
}

interface Live {
  rec: LabHostRecord;
  readonly host: Host;
  readonly transport: LabTransport;
}

/** Hosts of every lab driver of this process, removed synchronously should the process exit with them still up. */
const liveEverywhere = new ExitSweep<{ stateDir: string; live: Live }>((left) => {
  const scripts: string[] = [];
  for (const { stateDir, live } of left.values()) {
    killId(live.rec.init);
    scripts.push(teardownScript(slotNames(stateDir, live.rec)), `rm -f ${hostPaths(stateDir, live.rec.slot).record}`);
  }
  spawnSync("/bin/sh", ["-c", scripts.join("\n")], { stdio: "ignore", timeout: 60_000 });
});

function extraString(system: System, backend: Backend, key: string): string | undefined {
  const v = system.extra[key] ?? backend.extra[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string" || typeof v === "number") return String(v);
  throw new TroupeError("E_PROJECT", {
    pos: system.pos,
    path: `backends.${backend.name}.systems.${system.name}.${key}`,
    message: "must be a string or a number",
  });
}

export function createLabDriver(backend: Backend, ctx: BackendContext, options: LabDriverOptions = {}): BackendDriver {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const open = new Map<string, Live>();
  /** Hosts kept for later runs (-reuse): released at the end, never destroyed by this process. */
  const kept = new Set<string>();
  const hostsDir = resolve(ctx.runDir, "hosts");

  /** A name unique in the run (the run directory is shared by every backend). */
  function claimName(system: System, index: number, wanted?: string): Promise<string> {
    return claimHostName({
      runDir: ctx.runDir,
      backend: backend.name,
      system: system.name,
      index,
      ...(wanted !== undefined ? { wanted } : {}),
      sanitize: hostnameFor,
    });
  }

  function track(live: Live): void {
    open.set(live.host.name, live);
    if (live.rec.keep) return; // outlives this process: no exit hook
    liveEverywhere.set(`${stateDir}#${live.rec.slot}`, { stateDir, live });
  }

  function untrack(live: Live): void {
    open.delete(live.host.name);
    kept.delete(live.host.name);
    liveEverywhere.delete(`${stateDir}#${live.rec.slot}`);
  }

  /** Close the connection and forget the host; it stays up. */
  async function letGo(live: Live): Promise<void> {
    untrack(live);
    await live.transport.close().catch(() => undefined);
    await copyFile(hostPaths(stateDir, live.rec.slot).log, join(hostsDir, live.host.name, "lab.log")).catch(() => undefined);
  }

  function hostOf(rec: LabHostRecord, system: System, transport: LabTransport): Host {
    return {
      name: rec.name,
      address: rec.address,
      backend: backend.name,
      system: system.name,
      transport,
      projectPath: ctx.remotePath,
      data: { slot: rec.slot, netns: rec.netns, dir: rec.dir, stateDir },
    };
  }

  return {
    type: "lab",

    async allocate(system: System, index: number, hint?: AllocateOptions): Promise<Host> {
      checkLabSupport();
      if (system.username !== undefined && system.username !== "root") {
        throw new TroupeError("E_UNSUPPORTED", { pos: system.pos, message: `lab hosts are reached as root, not ${system.username}` });
      }
      const name = await claimName(system, index, hint?.name);
      const tmpfsSize = extraString(system, backend, "tmpfs-size");
      const bootTimeout = extraString(system, backend, "boot-timeout");
      const rec = await createHost({
        stateDir,
        name,
        backend: backend.name,
        system: system.name,
        ...(tmpfsSize !== undefined ? { tmpfsSize } : {}),
        ...(bootTimeout !== undefined ? { bootTimeoutMs: Number(bootTimeout) * 1000 } : {}),
        ...(system.password !== undefined ? { password: system.password } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const transport = labTransport(stateDir, rec, options.handshakes);
      const host = hostOf(rec, system, transport);
      const live: Live = { rec, host, transport };
      track(live);
      try {
        await transport.connect(ctx.signal);
        if (system.password !== undefined) {
          const r = await transport.exec({ script: "chpasswd", stdin: `root:${system.password}\n` });
          if (r.exitCode !== 0) throw new TroupeError("E_BACKEND", `lab: cannot set root's password on ${name}`);
        }
      } catch (err) {
        untrack(live);
        await transport.close().catch(() => undefined);
        await destroyHost(stateDir, rec).catch(() => undefined);
        throw err;
      }
      return host;
    },

    async discard(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (live) {
        untrack(live);
        await live.transport.close().catch(() => undefined);
        // Keep the host's boot and sshd log with the run.
        await copyFile(hostPaths(stateDir, live.rec.slot).log, join(hostsDir, host.name, "lab.log")).catch(() => undefined);
        await destroyHost(stateDir, live.rec);
        return;
      }
      // Not ours (any more): remove what the record still names, if it is this host.
      await host.transport.close().catch(() => undefined);
      const slot = host.data?.["slot"];
      if (typeof slot !== "number") return;
      const rec = await readRecord(stateDir, slot);
      if (rec && rec.name === host.name && rec.address === host.address) await destroyHost(stateDir, rec);
    },

    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      checkLabSupport();
      const slot = recorded.data?.["slot"];
      const found =
        typeof slot === "number"
          ? await readRecord(stateDir, slot)
          : (await listRecords(stateDir)).find((r) => r.address === recorded.address && r.name === recorded.name);
      // Gone: the slot is free, or holds another host now.
      if (!found || found.address !== recorded.address || found.name !== recorded.name) return undefined;
      if (open.has(found.name)) throw new TroupeError("E_BACKEND", `lab: ${found.name} is already a host of this run`);
      if (isRunning(found.owner) && found.owner.pid !== process.pid) {
        throw new TroupeError("E_BACKEND", `lab: ${found.name} is in use by troupe process ${found.owner.pid}`);
      }
      // Ours now: \`lab gc\` leaves hosts of running processes alone.
      let rec: LabHostRecord = { ...found, owner: selfId() };
      await writeRecord(stateDir, rec);
      await mkdir(join(hostsDir, rec.name), { recursive: true });
      if (purpose === "run" && !isRunning(rec.init)) {
        ctx.events.message("info", `lab: ${rec.name} is down; booting it again`);
        rec = await rebootHost(stateDir, rec, 30_000, ctx.signal);
      }
      const transport = labTransport(stateDir, rec, options.handshakes);
      const live: Live = { rec, host: hostOf(rec, system, transport), transport };
      track(live);
      if (rec.keep) kept.add(rec.name);
      if (purpose === "run") {
        try {
          await transport.connect(ctx.signal);
        } catch (err) {
          await letGo(live);
          throw err;
        }
      }
      return live.host;
    },

    async keep(host: Host, reuseFile: string): Promise<void> {
      const live = open.get(host.name);
      if (!live) throw new TroupeError("E_BACKEND", `lab: cannot keep ${host.name}: not a host of this run`);
      live.rec = { ...live.rec, keep: true, reuse: reuseFile };
      await writeRecord(stateDir, live.rec);
      liveEverywhere.delete(`${stateDir}#${live.rec.slot}`);
      kept.add(host.name);
    },

    async release(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (live) await letGo(live);
    },

    async reboot(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) throw new TroupeError("E_BACKEND", `lab: cannot reboot ${host.name}: not a host of this run`);
      await live.transport.reset();
      live.rec = await rebootHost(stateDir, live.rec, 30_000, ctx.signal);
      await live.transport.connect(ctx.signal);
    },

    async close(): Promise<void> {
      const all = [...open.values()];
      await Promise.all(
        all.map(async (live) => {
          if (kept.has(live.host.name)) return letGo(live);
          untrack(live);
          await live.transport.close().catch(() => undefined);
          await destroyHost(stateDir, live.rec).catch(() => undefined);
        }),
      );
    },
  };
}
