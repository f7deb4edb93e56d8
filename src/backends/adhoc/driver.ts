// The `adhoc` backend: the project's own `allocate` and `discard` scripts
// bring machines up and down (Spread's spread/adhoc.go), and troupe reaches
// the address the allocate script reports over SSH.
//
// allocate: retried every 5 s for up to 5 minutes while it fails with ERROR or
// a non-zero exit (a message is emitted whenever the reason changes); FATAL
// gives up at once. Then troupe waits for the SSH port (up to 5 minutes) and
// connects as the system's `username` (root by default) with its `password`
// or, without one, the run's session password (SPREAD_PASSWORD, as Spread's
// -pass), or any key the user's ssh-agent/ssh_config offers. A host that
// cannot be reached is discarded again.

import { randomBytes } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import type { Backend, System } from "../../model/project.js";
import type { Phase } from "../../report/events.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { offlineTransport } from "../reuse/offline.js";
import { sshSystemConfig } from "../ssh/config.js";
import { connect, type ConnectOptions, type Connected, type SshTransportFactory } from "../ssh/connect.js";
import { sshTransportFactory } from "../ssh/driver.js";
import { ensureProjectKnownHosts } from "../ssh/known-hosts.js";
import { rebootEntry, type RebootableEntry, SwitchableTransport } from "../ssh/reboot.js";
import type { SshTarget } from "../ssh/targets.js";
import { runAdhocScript, type ScriptOutcome } from "./script.js";
import { errorText } from "../../util/text.js";
import { addSecret } from "../../secrets/registry.js";

/** Spread's defaults (client.go) when warn-timeout / kill-timeout are not set. */
const DEFAULT_WARN_MS = 5 * 60_000;
const DEFAULT_KILL_MS = 15 * 60_000;

export interface AdhocDriverOptions {
  /** The session password (Spread's -pass); the run's (ctx.password), else random, when not given. */
  readonly password?: string;
  readonly factory?: SshTransportFactory;
  readonly resolveConfig?: ConnectOptions["resolveConfig"];
  /** Allocation retries: every `retryMs` (5 s) for `allocateTimeoutMs` (5 min). */
  readonly retryMs?: number;
  readonly allocateTimeoutMs?: number;
  /** Waiting for the SSH port (5 min), then connecting (1 min). */
  readonly portTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Between port probes and connection attempts (1 s). */
  readonly pollMs?: number;
  readonly rebootTimeoutMs?: number;
  /** Environment the scripts start from (default this process's). */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
}

interface OpenHost {
  readonly host: Host;
  readonly system: System;
  /** ADDRESS as the allocate script printed it (`host[:port]`). */
  readonly reported: string;
  readonly switcher?: SwitchableTransport;
  conn?: Connected;
  readonly target: SshTarget;
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
export function splitAddress(addr: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
  if (v6) return { host: v6[1] ?? "", port: v6[2] ? Number(v6[2]) : 22 };
  const colons = addr.match(/:/g)?.length ?? 0;
  if (colons === 1) {
    const i = addr.indexOf(":");
    return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
  }
  return { host: addr, port: 22 };
}

export function createAdhocDriver(backend: Backend, ctx: BackendContext, options: AdhocDriverOptions = {}): BackendDriver {
  const sessionPassword = options.password ?? ctx.password ?? randomBytes(8).toString("hex");
  addSecret(sessionPassword); // hidden wherever troupe writes (a script's `set -x` trace prints it)
  const open = new Map<string, OpenHost>();
  const retryMs = options.retryMs ?? 5000;
  const allocateTimeoutMs = options.allocateTimeoutMs ?? 5 * 60_000;
  const pollMs = options.pollMs ?? 1000;
  let knownHosts: Promise<string> | undefined;

  const timeouts = (): { warnMs: number; killMs: number } => {
    const w = backend.warnTimeout;
    const k = backend.killTimeout;
    return {
      warnMs: w === undefined || w === 0 ? DEFAULT_WARN_MS : w < 0 ? 0 : w,
      killMs: k === undefined || k === 0 ? DEFAULT_KILL_MS : k < 0 ? 0 : k,
    };
  };

  const scriptEnv = (system: System, address: string): Record<string, string> => {
    const env: Record<string, string> = {
      SPREAD_BACKEND: backend.name,
      SPREAD_SYSTEM: system.name,
      SPREAD_SYSTEM_USERNAME: system.username ?? "",
      SPREAD_SYSTEM_PASSWORD: system.password ?? "",
      SPREAD_SYSTEM_ADDRESS: address,
    };
    if (!system.password) env["SPREAD_PASSWORD"] = sessionPassword;
    for (const [k, v] of Object.entries({ ...env })) if (k.startsWith("SPREAD_")) env[`TROUPE_${k.slice("SPREAD_".length)}`] = v;
    return env;
  };

  const run = (phase: Phase, script: string, system: System, address: string): Promise<ScriptOutcome> => {
    const context = `${backend.name}:${system.name}`;
    const { warnMs, killMs } = timeouts();
    return runAdhocScript({
      script,
      cwd: ctx.projectDir,
      env: scriptEnv(system, address),
      ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
      warnMs,
      killMs,
      onWarn: (afterMs, output) =>
        ctx.events.emit({ type: "timeout-warning", job: context, context, phase, host: context, afterMs, output }),
      onLine: (line) => ctx.events.emit({ type: "output", job: context, context, phase, host: context, stream: "stdout", line }),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  };

  const claimName = (system: System, index: number): Promise<string> =>
    claimHostName({
      runDir: ctx.runDir,
      backend: backend.name,
      system: system.name,
      index,
      sanitize: (n) => n.replace(/[^A-Za-z0-9._-]/g, "-"),
    });

  const discardScript = async (system: System, reported: string): Promise<void> => {
    if (!backend.discard) return;
    const out = await run("discard", backend.discard, system, reported);
    if (out.kind !== "ok") {
      throw new TroupeError("E_BACKEND", `cannot discard ${backend.name}:${system.name} at ${reported}: ${out.message}`);
    }
  };

  /** Run the allocate script with Spread's retry rules; returns ADDRESS. */
  const allocateAddress = async (system: System, stop: AbortSignal | undefined): Promise<string> => {
    const label = `${backend.name}:${system.name}`;
    const deadline = Date.now() + allocateTimeoutMs;
    let last = "";
    for (;;) {
      if (stop?.aborted) throw new TroupeError("E_INTERRUPTED", `interrupted while allocating ${label}`);
      const out = await run("allocate", backend.allocate ?? "", system, "");
      if (out.kind === "ok") {
        const addr = out.results["ADDRESS"] ?? "";
        if (addr === "" || /\s/.test(addr)) {
          throw new TroupeError(
            "E_BACKEND",
            `${label}: allocate must report the machine with ADDRESS <address[:port]>, got ${JSON.stringify(addr)}`,
          );
        }
        return addr;
      }
      if (stop?.aborted) throw new TroupeError("E_INTERRUPTED", `interrupted while allocating ${label}`);
      if (out.kind === "fatal") throw new TroupeError("E_BACKEND", `cannot allocate ${label}: ${out.message}`);
      if (out.message !== last) ctx.events.message("warn", `Cannot allocate ${label}: ${out.message}`);
      last = out.message;
      if (Date.now() + retryMs > deadline) throw new TroupeError("E_BACKEND", `cannot allocate ${label}: ${out.message}`);
      await sleep(retryMs, stop);
    }
  };

  const connectOptions = async (system: System): Promise<ConnectOptions & { identityFile?: string }> => {
    knownHosts ??= ensureProjectKnownHosts(ctx.projectDir);
    const cfg = sshSystemConfig(backend, system, ctx.projectDir);
    return {
      ...(cfg.identityFile !== undefined ? { identityFile: cfg.identityFile } : {}),
      knownHostsFile: await knownHosts,
      sshOptions: cfg.sshOptions,
      ...(cfg.sudo !== undefined ? { sudo: cfg.sudo } : {}),
      factory: sshTransportFactory(options),
      events: ctx.events,
      ...(options.resolveConfig ? { resolveConfig: options.resolveConfig } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    };
  };

  /** Connect, retrying connection failures (not configuration mistakes) until the deadline. */
  const connectWithRetry = async (target: SshTarget, opts: ConnectOptions, stop: AbortSignal | undefined): Promise<Connected> => {
    const deadline = Date.now() + (options.connectTimeoutMs ?? 60_000);
    for (;;) {
      try {
        return await connect(target, opts);
      } catch (e) {
        if (!isTroupeError(e) || e.code !== "E_TRANSPORT" || Date.now() + pollMs > deadline || stop?.aborted) throw e;
      }
      await sleep(pollMs, stop);
    }
  };

  return {
    type: "adhoc",

    async allocate(system: System, index: number, allocateOptions?: AllocateOptions): Promise<Host> {
      // Waits and retries end at the first interrupt; a script under way is killed only by the second (ctx.signal).
      const signals = [ctx.signal, allocateOptions?.signal].filter((x): x is AbortSignal => x !== undefined);
      const stop = signals.length > 0 ? AbortSignal.any(signals) : undefined;
      if (stop?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
      const opts = await connectOptions(system); // configuration mistakes show before anything is allocated
      const reported = await allocateAddress(system, stop);
      const { host: address, port } = splitAddress(reported);
      const name = await claimName(system, index);
      const target: SshTarget = {
        name,
        address,
        port,
        user: system.username || "root",
        password: system.password || sessionPassword,
        ...(opts.identityFile !== undefined ? { identityFile: opts.identityFile } : {}),
      };
      try {
        ctx.events.emit({
          type: "host-step",
          step: "connecting",
          backend: backend.name,
          system: system.name,
          host: name,
          address: reported,
        });
        await waitPortUp(address, port, options.portTimeoutMs ?? 5 * 60_000, pollMs, stop);
        const conn = await connectWithRetry(target, opts, stop);
        const switcher = new SwitchableTransport(conn.transport);
        const host: Host = {
          name,
          address,
          backend: backend.name,
          system: system.name,
          transport: switcher,
          projectPath: ctx.remotePath,
          // The session password is recorded for -reuse: a later run has another.
          data: { address: reported, user: conn.user, sudo: conn.sudo, ...(system.password ? {} : { password: sessionPassword }) },
        };
        open.set(name, { host, system, reported, switcher, conn, target });
        return host;
      } catch (e) {
        const why = errorText(e);
        await discardScript(system, reported).catch((d: unknown) => ctx.events.message("error", `${(d as Error).message} (after: ${why})`));
        if (isTroupeError(e)) throw e;
        throw new TroupeError("E_BACKEND", `cannot reach ${backend.name}:${system.name} at ${reported}: ${why}`);
      }
    },

    async discard(host: Host): Promise<void> {
      const entry = open.get(host.name);
      if (!entry) return;
      open.delete(host.name);
      await entry.conn?.close().catch(() => undefined);
      await discardScript(entry.system, entry.reported);
    },

    // -reuse: the machine at the recorded ADDRESS, connected again (for a
    // discard, not even that: the discard script only needs the address).
    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      const text = (k: string): string | undefined => (typeof recorded.data?.[k] === "string" ? recorded.data[k] : undefined);
      const reported = text("address") ?? recorded.address;
      const { host: address, port } = splitAddress(reported);
      const name = recorded.name;
      if (open.has(name)) throw new TroupeError("E_BACKEND", `${name} is already a host of this run`);
      const opts = await connectOptions(system);
      addSecret(text("password") ?? recorded.password);
      const target: SshTarget = {
        name,
        address,
        port,
        user: text("user") ?? recorded.username ?? (system.username || "root"),
        password: system.password || text("password") || recorded.password || sessionPassword,
        ...(opts.identityFile !== undefined ? { identityFile: opts.identityFile } : {}),
      };
      const data = { address: reported, ...(system.password ? {} : { password: target.password }) };
      if (purpose === "discard") {
        const host: Host = {
          name,
          address,
          backend: backend.name,
          system: system.name,
          transport: offlineTransport(name),
          projectPath: ctx.remotePath,
          data,
        };
        open.set(name, { host, system, reported, target });
        return host;
      }
      ctx.events.emit({ type: "host-step", step: "connecting", backend: backend.name, system: system.name, host: name, address: reported });
      const conn = await connect(target, opts);
      const switcher = new SwitchableTransport(conn.transport);
      const host: Host = {
        name,
        address,
        backend: backend.name,
        system: system.name,
        transport: switcher,
        projectPath: ctx.remotePath,
        data: { ...data, user: conn.user, sudo: conn.sudo },
      };
      open.set(name, { host, system, reported, switcher, conn, target });
      return host;
    },

    async release(host: Host): Promise<void> {
      const entry = open.get(host.name);
      if (!entry) return;
      open.delete(host.name);
      await entry.conn?.close().catch(() => undefined);
    },

    async reboot(host: Host): Promise<void> {
      const entry = open.get(host.name);
      if (!entry?.conn || !entry.switcher) throw new TroupeError("E_BACKEND", `${host.name} is not a host of backend ${backend.name}`);
      const opts = await connectOptions(entry.system);
      await rebootEntry(entry as RebootableEntry<Connected>, {
        label: host.name,
        reconnect: () => connect(entry.target, opts),
        timeoutMs: options.rebootTimeoutMs ?? 10 * 60_000,
        pollMs: Math.max(pollMs, 1000),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    },

    async close(): Promise<void> {
      const all = [...open.values()];
      open.clear();
      const errors: string[] = [];
      await Promise.all(
        all.map(async (e) => {
          await e.conn?.close().catch(() => undefined);
          await discardScript(e.system, e.reported).catch((err: unknown) => errors.push((err as Error).message));
        }),
      );
      if (errors.length > 0) throw new TroupeError("E_BACKEND", errors.join("\n"));
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolveSleep();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Spread's waitPortUp: TCP connect until it works. */
export async function waitPortUp(host: string, port: number, timeoutMs: number, pollMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (signal?.aborted) throw new TroupeError("E_INTERRUPTED", `interrupted while waiting for ${host}:${port}`);
    const err = await new Promise<string | undefined>((done) => {
      const sock = tcpConnect({ host, port, timeout: Math.min(5000, Math.max(pollMs, 1000)) });
      sock.once("connect", () => {
        sock.destroy();
        done(undefined);
      });
      sock.once("timeout", () => {
        sock.destroy();
        done("timed out");
      });
      sock.once("error", (e) => done(e.message));
    });
    if (err === undefined) return;
    last = err;
    if (Date.now() + pollMs > deadline) throw new TroupeError("E_TRANSPORT", `cannot connect to ${host}:${port}: ${last}`);
    await sleep(pollMs, signal);
  }
}
