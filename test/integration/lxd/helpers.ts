// Shared by the lxd integration tests: projects on the lxd backend with the
// test image, and what LXD holds of troupe's.

import { ensureImage, lxc, TEST_IMAGE } from "./image.js";

export interface Container {
  readonly name: string;
  readonly status: string;
  readonly config: Readonly<Record<string, string>>;
}

/** Every container LXD has whose troupe-process label names `pid`. */
export function containersOf(pid: number): Container[] {
  const all = JSON.parse(lxc(["query", "/1.0/instances?recursion=1"])) as Container[];
  return all.filter((c) => (c.config["user.troupe-process"] ?? "").startsWith(`${pid}_`));
}

/** Whether LXD has a container of that name. */
export function exists(name: string): boolean {
  const all = JSON.parse(lxc(["query", "/1.0/instances"])) as string[];
  return all.some((u) => u.endsWith(`/${name}`));
}

/**
 * spread.yaml of a project on the lxd backend: `systems` each launched from
 * the test image (made first) unless given as `NAME: IMAGE`.
 */
export function spreadYaml(systems: readonly string[] | Readonly<Record<string, string>>, more = ""): string {
  ensureImage();
  const entries = Array.isArray(systems) ? systems.map((s) => [s, TEST_IMAGE] as const) : Object.entries(systems);
  return [
    "project: lxd-test",
    "backends:",
    "  lxd:",
    "    systems:",
    ...entries.flatMap(([s, image]) => [`      - ${s}:`, `          image: ${image}`]),
    "path: /home/test",
    "suites:",
    "  checks/:",
    "    summary: checks",
    more,
  ].join("\n");
}
