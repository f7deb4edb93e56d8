// The owner labels of cloud machines. A cloud account is shared by many
// machines that run troupe (laptops, CI runners), so "the troupe process
// that made it is gone" can only be judged on the machine that made it:
// cloud machines carry, besides gc/owner.ts's labels, the id of the machine
// troupe ran on (`troupe-machine`, /etc/machine-id). Elsewhere only the halt
// time counts.

import { readFileSync } from "node:fs";
import { LABEL_PROCESS, collectableBecause, currentOwner, ownerLabels, parseOwnerLabels } from "../../gc/owner.js";

export const LABEL_MACHINE = "troupe-machine";

let machine: string | undefined;

/** This machine's id (systemd's /etc/machine-id, else D-Bus's), or `unknown`. */
export function machineId(): string {
  if (machine === undefined) {
    machine = "unknown";
    for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
      try {
        const id = readFileSync(file, "utf8").trim().toLowerCase();
        if (/^[0-9a-f]{32}$/.test(id)) {
          machine = id;
          break;
        }
      } catch {
        /* next */
      }
    }
  }
  return machine;
}

/**
 * The labels of a cloud machine that run `run` makes now, to be gone at
 * `haltAt`. A machine to be kept for later runs (-reuse) outlives its
 * troupe process on purpose: it is not labelled with it, so that only its
 * halt time lets `troupe gc` remove it (as docker's kept containers).
 */
export function cloudLabels(run: string | undefined, haltAt: Date, keep = false): Record<string, string> {
  const labels: Record<string, string> = { ...ownerLabels(currentOwner(run), haltAt), [LABEL_MACHINE]: machineId() };
  if (keep) delete labels[LABEL_PROCESS];
  return labels;
}

/**
 * Why `troupe gc` may delete a machine with these labels, or undefined: not
 * troupe's, or its halt time has not passed and its run may still be going
 * (or was made on another machine, where nothing here can tell).
 */
export function cloudCollectable(labels: Readonly<Record<string, string | undefined>>, now = new Date()): string | undefined {
  const owner = parseOwnerLabels(labels);
  if (!owner) return undefined;
  const here = labels[LABEL_MACHINE] === machineId() && machineId() !== "unknown";
  return collectableBecause(here ? owner : { ...(owner.haltAt ? { haltAt: owner.haltAt } : {}) }, now);
}
