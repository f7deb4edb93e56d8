// The LXD output: the rootfs tarball imported with `lxc image import` next
// to a metadata tarball troupe writes (architecture, creation date, os,
// release, description, and troupe's own properties), under the aliases the
// lxd backend looks up. `lxc` talks to the LXD of LXD_DIR when it is set,
// else to the usual socket, else to troupe's own engine
// (share/engines/start.sh lxd).

import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { clientSetup } from "../backends/lxd/client.js";
import { spreadImageProperties } from "../backends/lxd/images.js";
import { TroupeError } from "../util/errors.js";
import { runCommand } from "./command.js";
import { lxdAliases, type Recipe } from "./recipe.js";
import type { StepContext } from "./rootfs.js";

export const IMAGE_PROPERTY = "troupe.image";
export const RECIPE_PROPERTY = "troupe.image.recipe";
export const NAME_PROPERTY = "troupe.image.name";

/** LXD_DIR for `lxc`, as the lxd backend chooses it (backends/lxd/client.ts). */
export function lxcEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const setup = clientSetup(env);
  return setup?.dir ? { LXD_DIR: setup.dir } : {};
}

function lxc(args: readonly string[], what: string, o: { signal?: AbortSignal | undefined; log?: string } = {}) {
  return runCommand("lxc", args, { env: lxcEnv(), what, ...(o.signal ? { signal: o.signal } : {}), ...(o.log ? { log: o.log } : {}) });
}

/** `lxc` is installed and an LXD answers it (E_BACKEND saying what to do when not). */
export async function checkLxd(): Promise<void> {
  try {
    await lxc(["query", "/1.0"], "lxd");
  } catch (e) {
    if (!(e instanceof TroupeError) || e.code !== "E_BACKEND") throw e;
    const where = lxcEnv()["LXD_DIR"] ? `LXD_DIR=${lxcEnv()["LXD_DIR"]}` : "the usual socket";
    if (/is not installed/.test(e.message)) {
      throw new TroupeError("E_BACKEND", "lxd: lxc is not installed: install LXD (Debian: apt-get install lxd) or incus");
    }
    throw new TroupeError("E_BACKEND", `lxd: no LXD answers at ${where}: start one (share/engines/start.sh lxd), or set LXD_DIR`);
  }
}

interface LxdImage {
  readonly fingerprint: string;
  readonly aliases?: readonly { readonly name: string }[] | null;
  readonly properties?: Readonly<Record<string, string>> | null;
}

async function images(): Promise<LxdImage[]> {
  const r = await lxc(["image", "list", "--format", "json"], "lxc image list");
  return JSON.parse(r.stdout) as LxdImage[];
}

const isTroupes = (i: LxdImage): boolean => i.properties?.[IMAGE_PROPERTY] === "1";
const aliasesOf = (i: LxdImage): string[] => (i.aliases ?? []).map((a) => a.name);

/** Whether LXD holds troupe's image of this recipe under every alias it should have. */
export async function lxdHas(recipe: Recipe, name: string, key: string): Promise<boolean> {
  const want = lxdAliases(recipe, name);
  return (await images()).some(
    (i) => isTroupes(i) && i.properties?.[RECIPE_PROPERTY] === key && want.every((a) => aliasesOf(i).includes(a)),
  );
}

/** metadata.yaml of the image: what `lxc image info` shows, and troupe's properties. */
export function lxdMetadata(recipe: Recipe, name: string, key: string, now: Date): string {
  return stringify({
    architecture: "x86_64",
    creation_date: Math.floor(now.getTime() / 1000),
    properties: {
      // What Spread's own lookup matches a system's image by (os, version, architecture, remote).
      ...spreadImageProperties(name),
      release: recipe.suite,
      variant: "default",
      description: `Debian ${recipe.release} (${recipe.suite}) ${recipe.arch}, built by troupe image build`,
      [IMAGE_PROPERTY]: "1",
      [NAME_PROPERTY]: name,
      [RECIPE_PROPERTY]: key,
    },
    templates: {
      "/etc/hostname": { when: ["create", "copy"], template: "hostname.tpl" },
    },
  });
}

/**
 * Import `rootfsTar` with metadata into LXD under the recipe's aliases; an
 * older image of troupe's holding one of them goes first. An alias held by
 * an image troupe did not make is an error: troupe leaves it alone.
 */
export async function lxdImport(
  recipe: Recipe,
  name: string,
  key: string,
  rootfsTar: string,
  work: string,
  ctx: StepContext,
): Promise<{ fingerprint: string; aliases: string[] }> {
  const aliases = lxdAliases(recipe, name);
  const holders = (await images()).filter((i) => aliasesOf(i).some((a) => aliases.includes(a)));
  const foreign = holders.find((i) => !isTroupes(i));
  if (foreign) {
    const a = aliasesOf(foreign).filter((x) => aliases.includes(x));
    throw new TroupeError(
      "E_BACKEND",
      `lxd: the alias ${a.join(", ")} names an image troupe did not make (${foreign.fingerprint.slice(0, 12)}): ` +
        `remove it or the alias (lxc image alias delete ${a[0]}) to import troupe's`,
    );
  }
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, "templates"), { recursive: true });
  try {
    await writeFile(join(work, "metadata.yaml"), lxdMetadata(recipe, name, key, new Date()));
    await writeFile(join(work, "templates", "hostname.tpl"), "{{ container.name }}\n");
    const meta = join(work, "meta.tar.gz");
    await runCommand("tar", ["-C", work, "-czf", meta, "metadata.yaml", "templates"], { log: ctx.log, signal: ctx.signal, what: "tar" });
    for (const old of holders) await lxc(["image", "delete", old.fingerprint], "lxc image delete", ctx);
    await lxc(["image", "import", meta, rootfsTar, ...aliases.flatMap((a) => ["--alias", a])], "lxc image import", ctx);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const made = (await images()).find((i) => isTroupes(i) && i.properties?.[RECIPE_PROPERTY] === key && aliasesOf(i).includes(name));
  if (!made) throw new TroupeError("E_BACKEND", `lxd: the image ${name} is not there after importing it`);
  return { fingerprint: made.fingerprint, aliases };
}

/** Remove troupe's LXD images of NAME (by troupe's name property); the fingerprints removed. */
export async function lxdRemove(name: string): Promise<string[]> {
  const mine = (await images()).filter((i) => isTroupes(i) && i.properties?.[NAME_PROPERTY] === name);
  for (const i of mine) await lxc(["image", "delete", i.fingerprint], "lxc image delete");
  return mine.map((i) => i.fingerprint);
}
