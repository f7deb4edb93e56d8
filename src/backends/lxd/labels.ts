// troupe's owner labels (gc/owner.ts) as LXD instance configuration: each
// label `troupe-run` is the key `user.troupe-run`, in LXD's namespace for
// its users' own keys. Plus what `troupe gc` must know of a container kept
// for a later run (-reuse): the reuse file that records it.

import { ownerLabels, parseOwnerLabels, type LabelledOwner, type Owner } from "../../gc/owner.js";

const PREFIX = "user.";
/** The reuse file a kept container is recorded in (gc leaves it alone while the file lists it). */
export const KEY_REUSE = "user.troupe-reuse";
/** The project's backend name and the host's name in the run, for that record. */
export const KEY_BACKEND = "user.troupe-backend";
export const KEY_HOST = "user.troupe-host";

/** `-c key=value` arguments for `lxc launch` / `lxc config set`. */
export function ownerConfig(owner: Owner): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ownerLabels(owner))) out[PREFIX + k] = v;
  return out;
}

/** `-c k=v` pairs. */
export function configArgs(config: Readonly<Record<string, string>>): string[] {
  return Object.entries(config).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
}

/** The owner an instance's configuration names; undefined when it is not troupe's. */
export function ownerOf(config: Readonly<Record<string, string | undefined>>): LabelledOwner | undefined {
  const labels: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith(PREFIX)) labels[k.slice(PREFIX.length)] = v;
  return parseOwnerLabels(labels);
}
