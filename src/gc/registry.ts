// The collectors of `troupe gc`, one per backend type that makes machines,
// each loaded only when gc runs.

import type { Collector } from "./collector.js";

type Loader = () => Promise<Collector>;

const loaders = new Map<string, Loader>([
  ["lab", async () => (await import("../backends/lab/gc.js")).labCollector],
  ["lxd", async () => (await import("../backends/lxd/gc.js")).lxdCollector],
  ["qemu", async () => (await import("../backends/qemu/gc.js")).qemuGcCollector],
  ["docker", async () => (await import("../backends/docker/gc.js")).dockerCollector],
  ["ec2", async () => (await import("../backends/ec2/gc.js")).ec2Collector],
  ["google", async () => (await import("../backends/google/gc.js")).googleCollector],
]);

/** The types gc looks at, sorted. */
export function collectorTypes(): string[] {
  return [...loaders.keys()].sort();
}

/** Add (or replace, in tests) the collector of a type. */
export function registerCollector(type: string, load: Loader): void {
  loaders.set(type, load);
}

export async function loadCollectors(types: readonly string[] = collectorTypes()): Promise<Collector[]> {
  return Promise.all(
    types.map((t) => {
      const load = loaders.get(t);
      if (!load) throw new Error(`no gc collector for ${t}`);
      return load();
    }),
  );
}
