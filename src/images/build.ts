// `troupe image build`: the recipe's entry in the store, made once, then each
// output asked for that is not there yet. Every step is reported with its
// time; what is found already made is reported as cached. A build cut short
// (an error, Ctrl-C) leaves no partial entry or output behind.

import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { TroupeError } from "../util/errors.js";
import { interrupted } from "./command.js";
import { cacheKey } from "./cache-key.js";
import { checkDocker, dockerHas, dockerImport } from "./docker-output.js";
import { checkLxd, lxdHas, lxdImport } from "./lxd-output.js";
import { buildQemu, foreignQemu, installedQemuFiles, installQemu, qemuInstalled, copyQemuFiles, storeQemuFiles } from "./qemu-output.js";
import { baseRecipe, lxdAliases, outputName, recipeFor, TARGETS, type Recipe, type Target } from "./recipe.js";
import { addUsersToExt4 } from "./ext4-edit.js";
import type { LoginUser } from "./users.js";
import { buildRootfs, type StepContext, type StepRunner } from "./rootfs.js";
import {
  entryPaths,
  lockEntry,
  publish,
  storeDir,
  writeJsonAtomic,
  type EntryPaths,
  type EntryRecord,
  type OutputRecord,
} from "./store.js";

export type BuildEvent =
  | {
      readonly kind: "start";
      readonly name: string;
      readonly system: string;
      readonly key: string;
      readonly store: string;
      readonly targets: readonly Target[];
    }
  | { readonly kind: "wait"; readonly pid: number }
  | { readonly kind: "skip"; readonly target: Target; readonly why: string }
  | { readonly kind: "step"; readonly what: string }
  | { readonly kind: "step-done"; readonly what: string; readonly seconds: number }
  | { readonly kind: "cached"; readonly what: string }
  | { readonly kind: "done"; readonly seconds: number; readonly outputs: readonly string[] };

export interface BuildOptions {
  readonly name: string;
  /** What the outputs are called (default: the system's name): a private copy, say for tests. */
  readonly as?: string | undefined;
  /** The outputs; without them, every output whose engine answers (the others are reported as skipped). */
  readonly targets?: readonly Target[] | undefined;
  /** Rebuild everything, cached or not. */
  readonly force?: boolean;
  readonly mirror?: string | undefined;
  /** Login users added to the qemu output (--user): see users.ts. */
  readonly users?: readonly LoginUser[] | undefined;
  /** The store (default storeDir()). */
  readonly store?: string;
  readonly signal?: AbortSignal;
  readonly onEvent: (e: BuildEvent) => void;
}

export interface BuildResult {
  readonly key: string;
  readonly dir: string;
  /** One line per output: what it is called where it is. */
  readonly outputs: readonly string[];
}

const CHECKS: Readonly<Record<Target, () => Promise<void>>> = { docker: checkDocker, lxd: checkLxd, qemu: async () => undefined };

/**
 * The outputs to make. Asked for: each engine must answer, else the error
 * (E_BACKEND, saying how to start it) comes at once, before any work. Not
 * asked for: those whose engine answers, the others reported as skipped.
 */
async function chooseTargets(asked: readonly Target[] | undefined, onEvent: BuildOptions["onEvent"]): Promise<Target[]> {
  if (asked) {
    for (const t of asked) await CHECKS[t]();
    return [...asked];
  }
  const chosen: Target[] = [];
  for (const t of TARGETS) {
    try {
      await CHECKS[t]();
      chosen.push(t);
    } catch (e) {
      if (!(e instanceof TroupeError) || e.code !== "E_BACKEND") throw e;
      onEvent({ kind: "skip", target: t, why: e.message });
    }
  }
  return chosen;
}

function needRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new TroupeError("E_BACKEND", `image build: ${what} needs root: run troupe image build as root (sudo)`);
}

export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const recipe = recipeFor(o.name, { mirror: o.mirror, users: o.users });
  const name = outputName(o.as ?? recipe.name);
  if (recipe.users && (o.targets?.length !== 1 || o.targets[0] !== "qemu")) {
    throw new TroupeError(
      "E_USAGE",
      "image build: --user adds login users to the qemu output only: build with --for qemu " +
        "(docker and lxd machines get their users from the project's scripts)",
    );
  }
  const key = cacheKey(recipe);
  const store = o.store ?? storeDir();
  const p = entryPaths(store, key, recipe.name);
  const targets = await chooseTargets(o.targets, o.onEvent);
  // Before anything is made: what an entry with users is made from must be there.
  if (recipe.users && (o.force || !existsSync(join(p.qemuDir, "root.img")))) requireBase(baseEntry(recipe, store), store);
  const foreign = targets.includes("qemu") && !o.force ? await foreignQemu(name) : undefined;
  if (foreign) {
    throw new TroupeError(
      "E_USAGE",
      `image build: ${foreign} is not troupe's (or was changed since): move it away, or build with --force to replace it`,
    );
  }
  o.onEvent({ kind: "start", name, system: recipe.name, key, store, targets });

  const lock = await lockEntry(store, key, (pid) => o.onEvent({ kind: "wait", pid }), o.signal);
  const partials = [p.partial, p.qemuPartial, join(p.dir, ".partial-lxd")];
  try {
    // Whatever a killed build of this recipe left: nobody else holds the lock, so it is stale.
    for (const d of partials) await rm(d, { recursive: true, force: true });
    await mkdir(dirname(p.log), { recursive: true });
    const ctx: StepContext = { log: p.log, signal: o.signal };
    let logged = false;
    const step: StepRunner = async (what, fn) => {
      // The log holds the last build that did something (a cached one keeps it).
      if (!logged) await writeFile(p.log, "");
      logged = true;
      o.onEvent({ kind: "step", what });
      const t = Date.now();
      const r = await fn();
      o.onEvent({ kind: "step-done", what, seconds: (Date.now() - t) / 1000 });
      return r;
    };

    if (recipe.users && (o.force || !existsSync(p.recipe))) {
      // An entry with users holds only its qemu output, made from the entry without them.
      await mkdir(p.partial, { recursive: true });
      await writeJsonAtomic(join(p.partial, "recipe.json"), { key, recipe, builtAt: new Date().toISOString() } satisfies EntryRecord);
      await publish(p.partial, p.dir);
    } else if (o.force || !existsSync(p.recipe)) {
      needRoot("debootstrap");
      await buildRootfs(recipe, p.partial, ctx, step);
      await writeJsonAtomic(join(p.partial, "recipe.json"), { key, recipe, builtAt: new Date().toISOString() } satisfies EntryRecord);
      await publish(p.partial, p.dir);
    } else o.onEvent({ kind: "cached", what: recipe.users ? `store entry (${p.dir})` : `root filesystem (${p.rootfs})` });

    const outputs: string[] = [];
    for (const target of targets) outputs.push(await makeOutput(target, name, recipe, key, p, ctx, step, o));
    o.onEvent({ kind: "done", seconds: (Date.now() - started) / 1000, outputs });
    return { key, dir: p.dir, outputs };
  } catch (e) {
    for (const d of partials) await rm(d, { recursive: true, force: true });
    // Cut short in any step (a command, a docker request): one typed error, exit 130.
    if (o.signal?.aborted && !(e instanceof TroupeError && e.code === "E_INTERRUPTED")) throw interrupted("the build");
    throw e;
  } finally {
    await lock.release();
  }
}

async function makeOutput(
  target: Target,
  name: string,
  recipe: Recipe,
  key: string,
  p: EntryPaths,
  ctx: StepContext,
  step: StepRunner,
  o: BuildOptions,
): Promise<string> {
  const cached = (what: string): void => o.onEvent({ kind: "cached", what });
  const record = (id: string, names: string[]): Promise<void> =>
    writeJsonAtomic(p.output(target, name), { target, name, id, names, at: new Date().toISOString() } satisfies OutputRecord);
  switch (target) {
    case "docker": {
      const tag = `${name}:latest`;
      if (!o.force && (await dockerHas(name, key))) cached(`docker image ${tag}`);
      else await record(await step(`docker import ${tag}`, () => dockerImport(name, recipe.name, key, p.rootfs, o.signal)), [tag]);
      return `docker: ${tag}`;
    }
    case "lxd": {
      const aliases = lxdAliases(recipe, name);
      if (!o.force && (await lxdHas(recipe, name, key))) cached(`lxd image ${name}`);
      else {
        const made = await step(`lxc image import ${name}`, () => lxdImport(recipe, name, key, p.rootfs, join(p.dir, ".partial-lxd"), ctx));
        await record(made.fingerprint, made.aliases);
      }
      return `lxd: ${aliases.join(", ")}`;
    }
    case "qemu": {
      if (recipe.users && (o.force || !existsSync(join(p.qemuDir, "root.img")))) {
        await withUsers(recipe, recipe.users, p, ctx, step, o);
        await publish(p.qemuPartial, p.qemuDir);
      } else if (o.force || !existsSync(join(p.qemuDir, "root.img"))) {
        needRoot("installing the kernel (chroot)");
        await buildQemu(recipe, p.rootfs, p.qemuPartial, ctx, step);
        await publish(p.qemuPartial, p.qemuDir);
      } else cached(`qemu root filesystem (${p.qemuDir})`);
      const files = installedQemuFiles(name);
      if (!o.force && (await qemuInstalled(name, key))) cached(`qemu image ${files.img}`);
      else {
        await step(`install ${name}.img, .vmlinuz, .initrd`, () => installQemu(name, key, p.qemuDir, ctx));
        await record(files.img, [files.img, files.kernel, files.initrd]);
      }
      return `qemu: ${files.img} (kernel ${files.kernel}, initrd ${files.initrd})`;
    }
  }
}

/** The entry an entry with users is made from: the same recipe without them. */
function baseEntry(recipe: Recipe, store: string): { key: string; paths: EntryPaths; recipe: Recipe } {
  const base = baseRecipe(recipe);
  const key = cacheKey(base);
  return { key, paths: entryPaths(store, key, base.name), recipe: base };
}

/** Fail, saying what to build, unless the base entry's qemu files are in the store. */
function requireBase(base: ReturnType<typeof baseEntry>, store: string): void {
  if (existsSync(join(base.paths.qemuDir, "root.img"))) return;
  throw new TroupeError(
    "E_BACKEND",
    `image build: --user starts from ${base.recipe.name}'s qemu image (recipe ${base.key}), which is not in ${store}: ` +
      `build it first with \`troupe image build ${base.recipe.name} --for qemu\` (with the same --mirror)`,
  );
}

/**
 * The qemu output with users: the entry without them copied (its qemu files
 * must be in the store: built offline from Debian's mirror once, they are
 * not built again here), and the users written into the copy's filesystem.
 */
async function withUsers(
  recipe: Recipe,
  users: readonly LoginUser[],
  p: EntryPaths,
  ctx: StepContext,
  step: StepRunner,
  o: BuildOptions,
): Promise<void> {
  const store = o.store ?? storeDir();
  const base = baseEntry(recipe, store);
  const to = storeQemuFiles(p.qemuPartial);
  const lock = await lockEntry(store, base.key, (pid) => o.onEvent({ kind: "wait", pid }), o.signal);
  try {
    requireBase(base, store); // still there, now that it is locked
    await rm(p.qemuPartial, { recursive: true, force: true });
    await mkdir(p.qemuPartial, { recursive: true });
    await step(`copy ${base.recipe.name}'s qemu image (${base.key})`, () => copyQemuFiles(storeQemuFiles(base.paths.qemuDir), to, ctx));
  } finally {
    await lock.release();
  }
  const days = Math.floor(Date.now() / 86_400_000);
  await step(`add users ${users.map((u) => u.name).join(", ")} (debugfs)`, () => addUsersToExt4(to.img, users, ctx, days));
}
