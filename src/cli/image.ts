// `troupe image build|list|rm`: Debian images made offline with debootstrap,
// for docker, lxd and qemu, kept in a store keyed by the recipe's hash.

import type { Command } from "commander";
import type { BuildEvent } from "../images/build.js";
import type { Entry } from "../images/store.js";

export function addImageCommand(program: Command): void {
  const image = program
    .command("image")
    .description("build Debian images offline (debootstrap) for the docker, lxd and qemu backends, list and remove them")
    .addHelpText(
      "after",
      `
Images are named as Spread projects name systems: debian-11, debian-12,
debian-13, debian-sid. Each is built once per recipe into a store
(/var/cache/troupe/images for root, else ~/.cache/troupe/images;
TROUPE_IMAGE_DIR overrides), so building it again takes seconds.

Examples:
  troupe image build debian-12                    every output whose engine is running
  troupe image build debian-12 --for docker,lxd
  troupe image list
  troupe image rm debian-12`,
    );

  image
    .command("build")
    .description("build NAME (debootstrap minbase from Debian's mirror) and output it for docker, lxd and qemu")
    .argument("<name>", "debian-11, debian-12, debian-13 or debian-sid")
    .option("--for <targets>", "outputs, comma-separated: docker, lxd, qemu (default: each whose engine answers)")
    .option("--force", "build again even what is cached")
    .option("--mirror <url>", "the Debian mirror (default: TROUPE_IMAGE_MIRROR, else http://deb.debian.org/debian)")
    .option("--as <other>", "call the outputs OTHER instead of NAME: a private copy from the same store entry")
    .option(
      "--user <name[:password]>",
      "qemu only: add a login user with a home, bash and sudo without a password, as cloud images have (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addHelpText(
      "after",
      `
Outputs:
  docker  the image NAME:latest, imported through the Engine API
          (DOCKER_HOST, or share/engines/start.sh docker's engine)
  lxd     an LXD image with the aliases NAME and debian/RELEASE
          (LXD_DIR, or share/engines/start.sh lxd's LXD)
  qemu    ~/.spread/qemu/NAME.img (ext4, no partition table), NAME.vmlinuz
          and NAME.initrd, booted with root=/dev/vda rw console=ttyS0; root's
          password is troupe.password= from the kernel command line, else
          "troupe"; --user NAME[:PASSWORD] adds a login user (its own
          store entry, made from NAME's qemu files in seconds: no download)

Building needs root (debootstrap). An output asked for with --for whose
engine is not running fails at once (exit 3) and says how to start it.
Ctrl-C (or SIGTERM, SIGHUP) removes what the build had half made; exit 130.

Examples:
  troupe image build debian-12 --for docker
  troupe image build debian-13 --for qemu --mirror http://ftp.de.debian.org/debian
  troupe image build debian-12 --for qemu --as ubuntu-16.04 --user ubuntu:ubuntu
  TROUPE_IMAGE_DIR=/var/cache/troupe-ci/images troupe image build debian-12`,
    )
    .action(async (name: string, opts: { for?: string; force?: boolean; mirror?: string; as?: string; user?: string[] }) => {
      const [{ buildImage }, { parseTargets }, { onInterrupt }, { parseUser }] = await Promise.all([
        import("../images/build.js"),
        import("../images/recipe.js"),
        import("../api/interrupt.js"),
        import("../images/users.js"),
      ]);
      const users = (opts.user ?? []).map(parseUser);
      const targets = opts.for !== undefined ? parseTargets(opts.for) : undefined;
      const interrupt = onInterrupt({ words: { first: "removing what the build half made", second: "still removing; please wait" } });
      try {
        await buildImage({
          name,
          as: opts.as,
          targets,
          ...(users.length ? { users } : {}),
          ...(opts.force ? { force: true } : {}),
          mirror: opts.mirror ?? (process.env["TROUPE_IMAGE_MIRROR"] || undefined),
          signal: interrupt.soft,
          onEvent: printEvent,
        });
      } finally {
        interrupt.dispose();
      }
    });

  image
    .command("list")
    .description("the images in the store, with the outputs made of each")
    .option("--json", "as JSON")
    .action(async (opts: { json?: boolean }) => {
      const { listEntries, storeDir } = await import("../images/store.js");
      const entries = await listEntries(storeDir());
      if (opts.json) return void process.stdout.write(`${JSON.stringify(entries.map(listed), null, 2)}\n`);
      if (!entries.length) return void process.stdout.write(`No images in ${storeDir()}.\n`);
      printEntries(entries);
    });

  image
    .command("rm")
    .description("remove NAME from the store and the engine images troupe made of it (never others)")
    .argument("<name>", "an image name, as troupe image list shows it")
    .addHelpText(
      "after",
      `
An engine that is not running is skipped with a note; run rm again once it is.

Examples:
  troupe image rm debian-12          the store entry, debian-12:latest, the LXD image, ~/.spread/qemu/debian-12.*
  troupe image rm scratch            outputs made with --as scratch (the store entry stays)`,
    )
    .action(async (name: string) => {
      const { removeImage } = await import("../images/remove.js");
      const r = await removeImage(name);
      for (const line of r.removed) process.stdout.write(`removed ${line}\n`);
      for (const line of r.skipped) process.stdout.write(`skipped ${line}\n`);
    });
}

function printEvent(e: BuildEvent): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  switch (e.kind) {
    case "start":
      return out(
        `Building ${e.name}${e.name === e.system ? "" : ` (${e.system})`} (recipe ${e.key}) for ${e.targets.join(", ") || "no output"} in ${e.store}`,
      );
    case "skip":
      return out(`skipped ${e.target}: ${e.why}`);
    case "wait":
      return out(`waiting for pid ${e.pid}, which is building the same recipe`);
    case "step":
      return out(`- ${e.what}...`);
    case "step-done":
      return out(`  ${e.what}: ${e.seconds.toFixed(1)}s`);
    case "cached":
      return out(`cached: ${e.what}`);
    case "done":
      for (const o of e.outputs) out(`  ${o}`);
      return out(`Done in ${e.seconds.toFixed(1)}s.`);
  }
}

function listed(e: Entry): Record<string, unknown> {
  return {
    name: e.recipe.name,
    key: e.key,
    suite: e.recipe.suite,
    mirror: e.recipe.mirror,
    builtAt: e.builtAt,
    bytes: e.bytes,
    dir: e.dir,
    ...(e.recipe.users ? { users: e.recipe.users.map((u) => u.name) } : {}),
    outputs: e.outputs,
  };
}

function printEntries(entries: readonly Entry[]): void {
  const rows = entries.map((e) => [
    // An entry with --user's users is NAME+USER,...: another recipe of the same system.
    e.recipe.users ? `${e.recipe.name}+${e.recipe.users.map((u) => u.name).join(",")}` : e.recipe.name,
    e.key,
    e.builtAt.replace("T", " ").replace(/:\d\d\.\d+Z$/, " UTC"),
    `${Math.round(e.bytes / 1e6)} MB`,
    e.outputs.map((o) => (o.name === e.recipe.name ? o.target : `${o.target} (as ${o.name})`)).join(", ") || "-",
  ]);
  const head = ["NAME", "RECIPE", "BUILT", "SIZE", "OUTPUTS"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ")}\n`);
}
