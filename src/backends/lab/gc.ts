// `troupe gc` for lab hosts: what `troupe lab gc` removes, one thing at a time.

import { existsSync } from "node:fs";
import type { Collector, Leftover } from "../../gc/collector.js";
import { DEFAULT_STATE_DIR } from "./layout.js";
import { labLeftovers, labTidy, removeLabHost, removeLabOrphanSlot } from "./manage.js";
import { isRunning } from "./procs.js";
import type { LabHostRecord } from "./records.js";

const held = new Map<string, LabHostRecord>();

function hostLeftover(r: LabHostRecord): Leftover {
  held.set(`host:${r.slot}`, r);
  const reason = isRunning(r.owner)
    ? "--all: its troupe process is still running"
    : r.making
      ? `half-made, and the troupe process ${r.owner.pid} that was making it is gone`
      : `the troupe process ${r.owner.pid} that made it is gone`;
  return { type: "lab", kind: "host", id: `host:${r.slot}`, name: r.name, reason };
}

export const labCollector: Collector = {
  type: "lab",
  async find(options) {
    if (process.getuid?.() !== 0) return { unavailable: "lab hosts need root; run troupe gc as root to collect them" };
    if (!existsSync(DEFAULT_STATE_DIR)) return [];
    const found = await labLeftovers(options.all ? { all: true } : {});
    return [
      ...found.hosts.map(hostLeftover),
      ...found.orphanSlots.map((slot): Leftover => ({
        type: "lab",
        kind: "leftovers",
        id: `slot:${slot}`,
        name: `slot ${slot}`,
        reason: "namespaces, links, mounts or files of a host with no record",
      })),
    ];
  },
  async remove(leftover) {
    const [kind, n] = leftover.id.split(":");
    if (kind === "slot") return removeLabOrphanSlot(Number(n));
    const rec = held.get(leftover.id);
    if (rec) await removeLabHost(rec);
  },
  async tidy() {
    await labTidy();
  },
};
