// A container's state as LXD reports it (`/1.0/instances/NAME/state`), and
// waiting for its address, as Spread does (lxd.go's address): the first IPv4
// address of an interface other than lo.

import { setTimeout as sleep } from "node:timers/promises";
import { TroupeError } from "../../util/errors.js";
import type { LxdClient } from "./client.js";

export interface InstanceState {
  readonly status?: string;
  readonly network?: Readonly<
    Record<string, { readonly addresses?: readonly { readonly family?: string; readonly address?: string }[] | null }>
  > | null;
}

/** The container's IPv4 address, or undefined while it has none. */
export function addressOf(state: InstanceState): string | undefined {
  for (const [iface, conf] of Object.entries(state.network ?? {})) {
    if (iface === "lo") continue;
    for (const a of conf.addresses ?? []) if (a.family === "inet" && a.address) return a.address;
  }
  return undefined;
}

export interface WaitAddressOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Poll LXD until the container has an address. Spread asks once a second;
 * this asks every 100 ms at first, then less often, for at most 60 s.
 */
export async function waitAddress(client: LxdClient, name: string, o: WaitAddressOptions = {}): Promise<string> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let pause = 100;
  for (;;) {
    const state = await client.query<InstanceState>(
      `/1.0/instances/${encodeURIComponent(name)}/state`,
      o.signal ? { signal: o.signal } : {},
    );
    const addr = addressOf(state);
    if (addr) return addr;
    if (state.status !== undefined && state.status !== "Running") {
      throw new TroupeError("E_BACKEND", `lxd container ${name} is ${state.status.toLowerCase()}, not running`);
    }
    if (Date.now() > deadline) {
      throw new TroupeError(
        "E_BACKEND",
        `lxd container ${name} has no address after ${Math.round((o.timeoutMs ?? 60_000) / 1000)}s: its image must configure eth0 by DHCP`,
      );
    }
    if (o.signal?.aborted) throw new TroupeError("E_INTERRUPTED", `interrupted while waiting for ${name}'s address`);
    await sleep(pause, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
    pause = Math.min(pause * 1.5, 1000);
  }
}
