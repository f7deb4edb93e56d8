// The qemu backend, with Spread's semantics (spread/qemu.go): each host is a
// QEMU VM booted from ~/.spread/qemu/<image>.img as a snapshot (the image is
// never written), on user networking with the guest's sshd forwarded to a
// free loopback port, reached over SSH with the system's username and
// password. Beyond Spread: a kernel and initrd booted directly when they sit
// next to the image (no bootloader needed: what `troupe image build` makes),
// KVM when it is usable and TCG otherwise, said at the first allocation,
// readiness as the SSH banner on the forwarded port within a boot timeout
// (with the end of the serial console when it does not come), and a record
// of every VM so that `troupe gc` finds those of a killed troupe.
//
// Keys: see config.ts.

import { mkdir } from "node:fs/promises";
import { existsSync, openSync, readSync, closeSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { ownerLabels, currentOwner, parseOwnerLabels } from "../../gc/owner.js";
import { TroupeError, isTroupeError, type Problem } from "../../util/errors.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { hostnameFor } from "../lab/layout.js";
import { isRunning, killId } from "../lab/procs.js";
import type { Connected } from "../ssh/connect.js";
import { loginToMachine } from "../ssh/machine-login.js";
import { rebootEntry, SwitchableTransport } from "../ssh/reboot.js";
import { accelMessage, chooseAccel, hostFacts, type Accel, type HostFacts } from "./accel.js";
import { QEMU_BINARY, type VmLaunch } from "./args.js";
import { qemuSystemConfig, type QemuSystemConfig } from "./config.js";
import { findFirmware } from "./firmware.js";
import { waitForSsh } from "./ready.js";
import { defaultStateDir, readVmRecord, removeVmRecord, writeVmRecord, type VmRecord } from "./state.js";
import { qemuOf } from "./gc.js";
import { offlineTransport } from "../reuse/offline.js";
import { fileTail, startVm, stopVm, type RunningVm } from "./vm.js";
import { freePort } from "../../util/free-port.js";
import { which } from "../../util/which.js";
import { ExitSweep } from "../../util/exit-sweep.js";

export interface QemuDriverOptions {
  /** Where ~/.spread/qemu is looked for (default: the user's home). */
  readonly home?: string;
  /** Where VM records go (default: see state.ts). */
  readonly stateDir?: string;
  /** The QEMU binary (default qemu-system-x86_64 from PATH). */
  readonly binary?: string;
  /** This machine's KVM facts (default: read now). */
  readonly facts?: HostFacts;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface Live {
  readonly host: Host;
  readonly config: QemuSystemConfig;
  record: VmRecord;
  readonly switcher: SwitchableTransport;
  readonly knownHosts: string;
  /** Absent for a kept VM taken back only to be discarded. */
  conn?: Connected;
}

/** VMs of every qemu driver of this process, killed synchronously should the process exit with them up. */
const liveEverywhere = new ExitSweep<{ stateDir: string; record: VmRecord }>((left) => {
  for (const { stateDir, record } of left.values()) {
    killId(record.qemu, "SIGKILL");
    removeVmRecord(stateDir, record.id);
    rmSync(record.pidFile, { force: true });
  }
});

/** The image's format from its first bytes: qcow2 has its magic, anything else is raw. */
function imageFormat(path: string): "raw" | "qcow2" {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    return magic.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb])) ? "qcow2" : "raw";
  } catch {
    return "raw";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Shorten a path under home to ~/... for messages. */
function tilde(path: string, home: string): string {
  return path.startsWith(home + "/") ? `~${path.slice(home.length)}` : path;
}

export function createQemuDriver(backend: Backend, ctx: BackendContext, options: QemuDriverOptions = {}): BackendDriver {
  const home = options.home ?? homedir();
  const env = options.env ?? process.env;
  const stateDir = options.stateDir ?? defaultStateDir(env);
  const binary = options.binary ?? QEMU_BINARY;
  const hostsDir = resolve(ctx.runDir, "hosts");
  const open = new Map<string, Live>();
  const configs = new Map<string, QemuSystemConfig>();
  let accel: Accel | undefined;

  const configOf = (system: System): QemuSystemConfig => {
    let c = configs.get(system.name);
    if (!c) {
      c = qemuSystemConfig(backend, system, home, existsSync);
      configs.set(system.name, c);
    }
    return c;
  };

  /** What is missing for `system` to boot, one problem a line, each saying what to do. */
  const missing = (system: System): Problem[] => {
    const c = configOf(system);
    const out: Problem[] = [];
    if (!existsSync(c.imagePath)) {
      out.push({
        message:
          `${c.label}: no image at ${tilde(c.imagePath, home)}; ` +
          `make it with \`troupe image build ${c.image}\`, or put a bootable disk image there`,
      });
    }
    for (const [what, file] of [
      ["kernel", c.direct?.kernel],
      ["initrd", c.direct?.initrd],
    ] as const) {
      if (file !== undefined && !existsSync(file)) out.push({ message: `${c.label}: the ${what} ${tilde(file, home)} does not exist` });
    }
    if (c.bios === "uefi" && !findFirmware(home, env, existsSync)) {
      out.push({
        message:
          `${c.label}: bios: uefi needs the OVMF firmware: install Debian's ovmf package (apt-get install ovmf), ` +
          `or put it at ${tilde(join(home, ".spread", "qemu", "bios", "uefi.img"), home)}`,
      });
    }
    return out;
  };

  const binaryProblem = (): Problem | undefined =>
    which(binary, env["PATH"] ?? "")
      ? undefined
      : { message: `qemu: ${binary} is not installed: install Debian's qemu-system-x86 package (apt-get install qemu-system-x86)` };

  const accelNow = (): Accel => {
    if (!accel) {
      accel = chooseAccel(options.facts ?? hostFacts());
      ctx.events.message(accel.kind === "kvm" ? "info" : "warn", accelMessage(accel));
    }
    return accel;
  };

  /** Hold a VM; unless it is kept for later runs, it dies with this process. */
  function track(live: Live): void {
    open.set(live.host.name, live);
    if (live.record.keep) liveEverywhere.delete(live.record.id);
    else {
      liveEverywhere.set(live.record.id, { stateDir, record: live.record });
    }
  }

  function hostOf(record: VmRecord, system: System, transport: SwitchableTransport): Host {
    return {
      name: record.name,
      address: `127.0.0.1:${record.sshPort}`,
      backend: backend.name,
      system: system.name,
      transport,
      projectPath: ctx.remotePath,
      data: { id: record.id, port: record.sshPort, pid: record.qemu?.pid ?? 0, image: record.image },
    };
  }

  /** Stop the VM and remove its record; its logs stay in the run directory. */
  async function destroy(record: VmRecord): Promise<void> {
    if (record.qemu) await stopVm(record.qemu);
    liveEverywhere.delete(record.id);
    removeVmRecord(stateDir, record.id);
    rmSync(record.pidFile, { force: true });
  }

  /** Log in over the forwarded port, as the system's user with its password. */
  const login = (name: string, config: QemuSystemConfig, port: number, knownHosts: string): Promise<Connected> =>
    loginToMachine({
      name,
      address: "127.0.0.1",
      port,
      user: config.username,
      password: config.password,
      knownHostsFile: knownHosts,
      events: ctx.events,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });

  /** Start QEMU with its ssh forward on `port`, recorded before and after it starts. */
  async function start(launch: VmLaunch, rec: VmRecord, stderrFile: string): Promise<{ vm: RunningVm; record: VmRecord }> {
    writeVmRecord(stateDir, rec);
    let vm: RunningVm;
    try {
      vm = await startVm(launch, stderrFile, binary);
    } catch (err) {
      removeVmRecord(stateDir, rec.id);
      throw new TroupeError("E_BACKEND", `qemu: cannot start ${binary}: ${(err as Error).message}`);
    }
    const record: VmRecord = { ...rec, qemu: vm.proc };
    writeVmRecord(stateDir, record);
    liveEverywhere.set(record.id, { stateDir, record });
    return { vm, record };
  }

  return {
    type: "qemu",

    async check(systems?: readonly System[]): Promise<void> {
      const mine = (systems ?? backend.systems).filter((s) => s.backend === backend.name);
      const problems: Problem[] = [];
      const bin = binaryProblem();
      if (bin) problems.push(bin);
      const seen = new Set<string>();
      for (const s of mine) {
        if (seen.has(s.name)) continue;
        seen.add(s.name);
        problems.push(...missing(s));
      }
      if (problems.length > 0) throw new TroupeError("E_BACKEND", problems);
    },

    async allocate(system: System, index: number, hint?: AllocateOptions): Promise<Host> {
      if (ctx.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
      const config = configOf(system);
      const problems = [binaryProblem(), ...missing(system)].filter((p): p is Problem => p !== undefined);
      if (problems.length > 0) throw new TroupeError("E_BACKEND", problems);
      const a = accelNow();
      const name = await claimHostName({
        runDir: ctx.runDir,
        backend: backend.name,
        system: system.name,
        index,
        ...(hint?.name ? { wanted: hint.name } : {}),
        sanitize: hostnameFor,
      });
      const dir = join(hostsDir, name);
      const id = hostnameFor(`${ctx.runId ?? `pid${process.pid}`}-${name}`);
      const serialLog = join(dir, "serial.log");
      const stderrFile = join(dir, "qemu.log");
      const knownHosts = join(dir, "known_hosts");
      const pidFile = join(stateDir, `${id}.pid`);
      const firmware = config.bios === "uefi" ? findFirmware(home, env, existsSync) : undefined;
      const format = imageFormat(config.imagePath);
      const labels = ownerLabels(currentOwner(ctx.runId));

      const launch = (sshPort: number): VmLaunch => ({
        config,
        accel: a,
        sshPort,
        format,
        name: `troupe:${id}`,
        files: { serialLog, pidFile, ...(firmware ? { firmware } : {}) },
      });
      const rec = (sshPort: number): VmRecord => ({
        id,
        name,
        image: config.image,
        sshPort,
        labels,
        pidFile,
        serialLog,
        created: new Date().toISOString(),
        backend: backend.name,
        address: `127.0.0.1:${sshPort}`,
      });

      let conn: Connected | undefined;
      let record: VmRecord | undefined;
      try {
        let port: number;
        let vm: RunningVm;
        for (let attempt = 1; ; attempt++) {
          port = await freePort();
          ({ vm, record } = await start(launch(port), rec(port), stderrFile));
          ctx.events.message(
            "info",
            `qemu: booting ${name} (${config.image}, ${a.kind}), ssh on 127.0.0.1:${port}, serial console in ${serialLog}`,
          );
          const waited = await waitForSsh({
            port,
            timeoutMs: config.bootTimeoutMs,
            exited: vm.exited,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          if (waited.kind === "ready") break;
          if (waited.kind === "interrupted") throw new TroupeError("E_INTERRUPTED", `qemu: interrupted while ${name} was booting`);
          if (waited.kind === "timeout") {
            throw new TroupeError(
              "E_BACKEND",
              `qemu: ${name} did not answer on ssh within ${Math.round(config.bootTimeoutMs / 1000)}s (${waited.last}); ` +
                `raise boot-timeout if it is only slow${consoleTail(serialLog)}`,
            );
          }
          // QEMU stopped. Another program may have taken the port between our look and QEMU's bind: try another.
          const said = fileTail(stderrFile, 5);
          if (attempt < 3 && /hostfwd|host forwarding/i.test(said)) {
            await destroy(record);
            continue;
          }
          const status = await vm.exited;
          const why = said || `exit status ${status.code ?? status.signal ?? "unknown"}`;
          throw new TroupeError("E_BACKEND", `qemu: ${name}: QEMU stopped while booting: ${why}${consoleTail(serialLog)}`);
        }
        conn = await login(name, config, port, knownHosts);
        const switcher = new SwitchableTransport(conn.transport);
        const host = hostOf(record, system, switcher);
        track({ host, config, record, switcher, knownHosts, conn });
        return host;
      } catch (err) {
        await conn?.close().catch(() => undefined);
        if (record) await destroy(record).catch(() => undefined);
        if (isTroupeError(err)) throw err;
        throw new TroupeError("E_BACKEND", `qemu: ${name}: ${(err as Error).message}`);
      }
    },

    async discard(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) return;
      open.delete(host.name);
      await live.conn?.close().catch(() => undefined);
      await destroy(live.record);
    },

    // -reuse, as Spread's qemu backend does it: the VM (its QEMU process)
    // outlives the run, recorded in the reuse file and in its own record.
    async keep(host: Host, reuseFile: string): Promise<void> {
      const live = open.get(host.name);
      if (!live) throw new TroupeError("E_BACKEND", `qemu: cannot keep ${host.name}: not a host of this run`);
      live.record = { ...live.record, keep: true, reuse: reuseFile };
      writeVmRecord(stateDir, live.record);
      liveEverywhere.delete(live.record.id);
    },

    async release(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) return;
      open.delete(host.name);
      liveEverywhere.delete(live.record.id);
      await live.conn?.close().catch(() => undefined);
    },

    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      const id = recorded.data?.["id"];
      const found = typeof id === "string" ? readVmRecord(stateDir, id) : undefined;
      if (!found || found.name !== recorded.name) return undefined;
      if (!qemuOf(found)) {
        // QEMU is gone (the machine rebooted, someone killed it): so is the VM.
        removeVmRecord(stateDir, found.id);
        rmSync(found.pidFile, { force: true });
        return undefined;
      }
      if (open.has(found.name)) throw new TroupeError("E_BACKEND", `qemu: ${found.name} is already a host of this run`);
      const owner = parseOwnerLabels(found.labels);
      if (owner?.process && isRunning(owner.process) && owner.process.pid !== process.pid) {
        throw new TroupeError("E_BACKEND", `qemu: ${found.name} is in use by troupe process ${owner.process.pid}`);
      }
      const config = configOf(system);
      const record: VmRecord = { ...found, labels: ownerLabels(currentOwner(ctx.runId)) };
      writeVmRecord(stateDir, record);
      const dir = join(hostsDir, record.name);
      await mkdir(dir, { recursive: true });
      const knownHosts = join(dir, "known_hosts");
      let conn: Connected | undefined;
      if (purpose === "run") conn = await login(record.name, config, record.sshPort, knownHosts);
      const switcher = new SwitchableTransport(conn ? conn.transport : offlineTransport(record.name));
      const host = hostOf(record, system, switcher);
      track({ host, config, record, switcher, knownHosts, ...(conn ? { conn } : {}) });
      return host;
    },

    async reboot(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) throw new TroupeError("E_BACKEND", `qemu: cannot reboot ${host.name}: not a host of this run`);
      if (!live.conn) throw new TroupeError("E_BACKEND", `qemu: cannot reboot ${host.name}: not connected`);
      await rebootEntry(live as Live & { conn: Connected }, {
        label: host.name,
        reconnect: () => login(host.name, live.config, live.record.sshPort, live.knownHosts),
        timeoutMs: live.config.bootTimeoutMs,
        pollMs: 1000,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    },

    async close(): Promise<void> {
      const all = [...open.values()];
      open.clear();
      await Promise.all(
        all.map(async (live) => {
          await live.conn?.close().catch(() => undefined);
          if (live.record.keep) liveEverywhere.delete(live.record.id);
          else await destroy(live.record).catch(() => undefined);
        }),
      );
    },
  };
}

/** The end of the serial console, for an error message. */
function consoleTail(serialLog: string): string {
  const tail = fileTail(serialLog, 15);
  return tail ? `; the serial console (${serialLog}) ends with:\n${tail}` : `; the serial console (${serialLog}) is empty`;
}
