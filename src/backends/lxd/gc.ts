// `troupe gc` for lxd: containers with troupe's labels (user.troupe=1) whose
// owner is gone (gc/owner.ts decides), except those a reuse file still
// records (-reuse keeps them for a later run).

import { existsSync } from "node:fs";
import type { Collector, Leftover } from "../../gc/collector.js";
import { collectableBecause } from "../../gc/owner.js";
import { isRecorded } from "../reuse/recorded.js";
import { clientSetup, LxdClient } from "./client.js";
import { KEY_BACKEND, KEY_HOST, KEY_REUSE, ownerOf } from "./labels.js";
import { addressOf, type InstanceState } from "./state.js";

interface Instance {
  readonly name: string;
  readonly config?: Readonly<Record<string, string>>;
  readonly state?: InstanceState | null;
}

/** The leftovers among `instances`; pure but for the reuse files and /proc that owner checks read. */
export function lxdLeftovers(instances: readonly Instance[], all = false): Leftover[] {
  const out: Leftover[] = [];
  for (const i of instances) {
    const config = i.config ?? {};
    const owner = ownerOf(config);
    if (!owner) continue;
    const reuse = config[KEY_REUSE];
    if (reuse) {
      const address = addressOf(i.state ?? {});
      const host = { backend: config[KEY_BACKEND] ?? "lxd", address: address ?? "", name: config[KEY_HOST] ?? i.name };
      // A stopped one has no address to match: it stays while the file is there.
      if (address === undefined ? existsSync(reuse) : isRecorded(reuse, host)) continue;
    }
    const why = collectableBecause(owner) ?? (all ? "--all: its troupe process is still running" : undefined);
    if (!why) continue;
    out.push({ type: "lxd", kind: "container", id: i.name, name: i.name, ...(owner.run ? { run: owner.run } : {}), reason: why });
  }
  return out;
}

export const lxdCollector: Collector = {
  type: "lxd",
  async find(options) {
    const setup = clientSetup();
    if (!setup) return { unavailable: "neither lxc nor incus is installed" };
    const client = new LxdClient(setup);
    const out = await client.run(["query", "/1.0/instances?recursion=1"], options.signal ? { signal: options.signal } : {});
    if (out.code !== 0) return { unavailable: `the LXD daemon does not answer (${out.stderr.trim().split("\n").pop() ?? ""})` };
    return lxdLeftovers(JSON.parse(out.stdout) as Instance[], options.all === true);
  },
  async remove(leftover, options) {
    const setup = clientSetup();
    if (!setup) return;
    const client = new LxdClient(setup);
    const out = await client.run(["delete", "--force", leftover.id], options.signal ? { signal: options.signal } : {});
    if (out.code === 0) return;
    const exists = await client.run(["query", `/1.0/instances/${encodeURIComponent(leftover.id)}`]);
    if (exists.code === 0) throw new Error(`lxc delete --force ${leftover.id}: ${out.stderr.trim()}`);
  },
};
