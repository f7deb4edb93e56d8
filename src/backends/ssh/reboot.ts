// REBOOT on a real machine, as Spread does it (client.go): note the boot id,
// ask for a reboot, then reconnect until the boot id changes. The host keeps
// one Transport object for the whole run; a SwitchableTransport lets the
// reboot put a fresh connection behind it.

import type { Readable } from "node:stream";
import type { ExecOptions, ExecResult, Transport } from "../../transport/transport.js";
import { TroupeError } from "../../util/errors.js";

export class SwitchableTransport implements Transport {
  readonly label: string;
  constructor(private current: Transport) {
    this.label = current.label;
  }
  /** Put `next` behind this transport and close the previous one. */
  async switchTo(next: Transport): Promise<void> {
    const prev = this.current;
    this.current = next;
    if (prev !== next) await prev.close().catch(() => undefined);
  }
  exec(options: ExecOptions): Promise<ExecResult> {
    return this.current.exec(options);
  }
  put(tar: Readable, dir: string): Promise<void> {
    return this.current.put(tar, dir);
  }
  get(dir: string, paths: readonly string[]): Promise<Readable> {
    return this.current.get(dir, paths);
  }
  close(): Promise<void> {
    return this.current.close();
  }
}

/** The kernel's boot id, or undefined when the host cannot be reached. */
export async function bootId(t: Transport): Promise<string | undefined> {
  const out: Buffer[] = [];
  try {
    const r = await t.exec({ script: "cat /proc/sys/kernel/random/boot_id", onStdout: (c) => out.push(c) });
    if (r.exitCode !== 0) return undefined;
  } catch {
    return undefined;
  }
  const id = Buffer.concat(out).toString("utf8").trim();
  return id === "" ? undefined : id;
}

export interface Reconnected {
  readonly transport: Transport;
  close(): Promise<void>;
}

export interface RebootOptions {
  readonly label: string;
  /** The connection the reboot is asked on (as root). */
  readonly transport: Transport;
  /** A fresh connection (as root), tried until the host answers with a new boot id. */
  readonly reconnect: () => Promise<Reconnected>;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly signal?: AbortSignal;
}

/** Reboot and return the new connection once the host is back with a new boot id. */
export async function rebootAndWait(o: RebootOptions): Promise<Reconnected> {
  const before = await bootId(o.transport);
  if (before === undefined) throw new TroupeError("E_TRANSPORT", `${o.label}: cannot read the boot id before rebooting`);
  // In the background, so that the command returns before the connection drops.
  await o.transport
    .exec({ script: "(sleep 1; reboot || /sbin/reboot || systemctl reboot) >/dev/null 2>&1 </dev/null &" })
    .catch(() => undefined);
  await o.transport.close().catch(() => undefined);
  const deadline = Date.now() + o.timeoutMs;
  let lastError = "no answer yet";
  while (Date.now() < deadline) {
    if (o.signal?.aborted) throw new TroupeError("E_INTERRUPTED", `${o.label}: interrupted while waiting for the reboot`);
    await new Promise((r) => setTimeout(r, o.pollMs));
    let next: Reconnected | undefined;
    try {
      next = await o.reconnect();
      const now = await bootId(next.transport);
      if (now !== undefined && now !== before) return next;
      lastError = now === undefined ? "cannot read the boot id" : "not rebooted yet (same boot id)";
    } catch (e) {
      lastError = (e as Error).message;
    }
    await next?.close().catch(() => undefined);
  }
  throw new TroupeError("E_TRANSPORT", `${o.label}: did not come back from REBOOT within ${Math.round(o.timeoutMs / 1000)}s: ${lastError}`);
}

/** A host's live connection, as the ssh and adhoc drivers keep it. */
export interface RebootableEntry<C extends Reconnected> {
  conn: C;
  readonly switcher: SwitchableTransport;
}

/**
 * Reboot the host behind `entry`, wait for it, and switch every user of its
 * transport to the new connection; the old one is closed.
 */
export async function rebootEntry<C extends Reconnected>(
  entry: RebootableEntry<C>,
  o: Omit<RebootOptions, "transport" | "reconnect"> & { readonly reconnect: () => Promise<C> },
): Promise<void> {
  const next = (await rebootAndWait({ ...o, transport: entry.conn.transport })) as C;
  const prev = entry.conn;
  entry.conn = next;
  await entry.switcher.switchTo(next.transport);
  await prev.close().catch(() => undefined);
}
