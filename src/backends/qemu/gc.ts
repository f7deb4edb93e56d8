// `troupe gc` for qemu VMs: the records of the state directory (state.ts)
// whose troupe process is gone (gc/owner.ts decides), and records whose
// QEMU is gone already; never a VM kept for -reuse that its reuse file
// still lists. QEMU is found by the identity the record holds, or,
// when troupe died before writing it, by the pid file QEMU wrote, checked
// against the VM's `-name` on QEMU's command line.

import { readFileSync, rmSync } from "node:fs";
import type { Collector, Leftover } from "../../gc/collector.js";
import { collectableBecause, parseOwnerLabels } from "../../gc/owner.js";
import { isRunning, procId, type ProcId } from "../lab/procs.js";
import { isRecorded } from "../reuse/recorded.js";
import { defaultStateDir, listVmRecords, removeVmRecord, type VmRecord } from "./state.js";
import { stopVm } from "./vm.js";

/** The QEMU process of a record, if it still runs. */
export function qemuOf(rec: VmRecord): ProcId | undefined {
  if (rec.qemu) return isRunning(rec.qemu) ? rec.qemu : undefined;
  let pid: number;
  try {
    pid = Number(readFileSync(rec.pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
  const id = Number.isInteger(pid) && pid > 1 ? procId(pid) : undefined;
  if (!id) return undefined;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.includes(`troupe:${rec.id}`) ? id : undefined;
  } catch {
    return undefined;
  }
}

export function qemuCollector(stateDir = defaultStateDir()): Collector {
  return {
    type: "qemu",
    find(options) {
      const found: Leftover[] = [];
      for (const rec of listVmRecords(stateDir)) {
        // Kept for -reuse: `troupe run --discard` removes it, while its reuse file lists it.
        if (rec.keep && rec.reuse && isRecorded(rec.reuse, { backend: rec.backend ?? "", address: rec.address ?? "", name: rec.name }))
          continue;
        const owner = parseOwnerLabels(rec.labels);
        const run = owner?.run;
        const because = owner ? collectableBecause(owner) : "its record names no troupe owner";
        const reason = because ?? (options.all ? "--all: its troupe process is still running" : undefined);
        if (!reason) continue;
        const running = qemuOf(rec) !== undefined;
        found.push({
          type: "qemu",
          kind: running ? "vm" : "record",
          id: rec.id,
          name: rec.name,
          ...(run ? { run } : {}),
          reason: running ? reason : `${reason} (its QEMU has stopped; only the record is left)`,
        });
      }
      return Promise.resolve(found);
    },
    async remove(leftover) {
      const rec = listVmRecords(stateDir).find((r) => r.id === leftover.id);
      if (!rec) return;
      const qemu = qemuOf(rec);
      if (qemu) await stopVm(qemu);
      if (qemuOf(rec)) throw new Error(`QEMU process ${qemu?.pid} would not stop`);
      removeVmRecord(stateDir, rec.id);
      rmSync(rec.pidFile, { force: true });
    },
  };
}

export const qemuGcCollector: Collector = qemuCollector();
