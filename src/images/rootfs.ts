// The base step: debootstrap the recipe's suite into a scratch tree, apply
// its configuration, and keep it as one tarball (what docker and LXD import
// and what the qemu step starts from).

import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { configure } from "./configure.js";
import { isolated, runCommand } from "./command.js";
import type { Recipe } from "./recipe.js";

/** GNU tar's flags that keep owners as numbers and file capabilities (ping's cap_net_raw). */
export const TAR_KEEP = ["--numeric-owner", "--xattrs", "--xattrs-include=*"];

export interface StepContext {
  readonly log: string;
  readonly signal?: AbortSignal | undefined;
}

/** debootstrap + configuration into `dir/root`, then `dir/rootfs.tar`; the tree is removed. */
export async function buildRootfs(recipe: Recipe, dir: string, ctx: StepContext, step: StepRunner): Promise<string> {
  const root = join(dir, "root");
  await mkdir(root, { recursive: true });
  const run = (args: readonly string[], what: string) => runCommand(...isolated(args), { log: ctx.log, signal: ctx.signal, what });
  await step(`debootstrap ${recipe.suite} from ${recipe.mirror}`, () =>
    run(
      [
        "debootstrap",
        `--variant=${recipe.variant}`,
        `--arch=${recipe.arch}`,
        `--components=${recipe.components.join(",")}`,
        `--include=${recipe.packages.join(",")}`,
        recipe.suite,
        root,
        recipe.mirror,
      ],
      `debootstrap ${recipe.suite}`,
    ),
  );
  await step("configure", async () => {
    await configure(root, recipe.configuration);
    await cleanApt(root);
  });
  const tarball = join(dir, "rootfs.tar");
  await step("pack rootfs.tar", () =>
    runCommand("tar", ["-C", root, ...TAR_KEEP, "-cf", tarball, "."], { log: ctx.log, signal: ctx.signal, what: "tar" }),
  );
  await rm(root, { recursive: true, force: true });
  return tarball;
}

/** What is left of apt's downloads and indexes, and the builder's resolv.conf. */
export async function cleanApt(root: string): Promise<void> {
  await rm(join(root, "var/cache/apt/archives"), { recursive: true, force: true });
  await mkdir(join(root, "var/cache/apt/archives/partial"), { recursive: true });
  await rm(join(root, "var/lib/apt/lists"), { recursive: true, force: true });
  await mkdir(join(root, "var/lib/apt/lists/partial"), { recursive: true });
  await rm(join(root, "etc/resolv.conf"), { force: true });
}

/** Times and reports one step of a build. */
export type StepRunner = <T>(what: string, fn: () => Promise<T>) => Promise<T>;
