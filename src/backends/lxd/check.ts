// What the lxd backend needs before any job runs, each missing piece one line
// that says what to do (E_BACKEND, exit 3): a client, a daemon that answers,
// an image for every system.

import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../../model/project.js";
import { TroupeError } from "../../util/errors.js";
import { type ClientSetup, LxdClient, TROUPE_LXD_DIR } from "./client.js";
import { chooseImage, lxdImageAliases, type ImageChoice, type LxdImage } from "./images.js";

export const START_HINT = "start it with `share/engines/start.sh lxd` (as root)";

export function noClient(): TroupeError {
  return new TroupeError(
    "E_BACKEND",
    `lxd: neither lxc nor incus is installed: install LXD (Debian: apt-get install lxd), then ${START_HINT}`,
  );
}

/** The client, or the error that says how to get one. */
export function clientOf(setup: ClientSetup | undefined): LxdClient {
  if (!setup) throw noClient();
  return new LxdClient(setup);
}

/** The daemon's socket, when it can be told. */
export function socketOf(setup: ClientSetup, exists: (p: string) => boolean = existsSync): string | undefined {
  if (setup.dir !== undefined) return join(setup.dir, "unix.socket");
  return (
    setup.kind === "lxc" ? ["/var/lib/lxd/unix.socket", "/var/snap/lxd/common/lxd/unix.socket"] : ["/var/lib/incus/unix.socket"]
  ).find(exists);
}

/** The name of a file's group, from /etc/group (its number when not there). */
function groupOf(file: string): string {
  const gid = statSync(file).gid;
  try {
    const line = readFileSync("/etc/group", "utf8")
      .split("\n")
      .find((l) => l.split(":")[2] === String(gid));
    return line?.split(":")[0] ?? String(gid);
  } catch {
    return String(gid);
  }
}

/** Throws when the daemon does not answer, or its socket may not be written. */
export async function checkDaemon(client: LxdClient): Promise<void> {
  const socket = socketOf(client.setup);
  if (socket !== undefined) {
    try {
      accessSync(socket, constants.R_OK | constants.W_OK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EACCES") {
        throw new TroupeError(
          "E_BACKEND",
          `lxd: no permission on ${socket}: run troupe as root, or as a member of its group ${groupOf(socket)}`,
        );
      }
    }
  }
  const out = await client.run(["query", "/1.0"]);
  if (out.code === 0) return;
  const where = client.setup.dir ? ` at LXD_DIR=${client.setup.dir}` : "";
  const said = out.stderr.trim().split("\n").pop() ?? "";
  const env = client.setup.dir === undefined ? `, then export LXD_DIR=${TROUPE_LXD_DIR}` : "";
  throw new TroupeError(
    "E_BACKEND",
    `lxd: the ${client.kind === "incus" ? "incus" : "LXD"} daemon does not answer${where} (${said || `exit status ${out.code}`}): ${START_HINT}${env}`,
  );
}

/** What the daemon holds that image choice needs: its images and the names of its remotes by URL. */
export interface Catalog {
  readonly images: readonly LxdImage[];
  readonly remoteNames: Readonly<Record<string, string>>;
}

interface RemoteInfo {
  readonly Addr?: string;
  readonly addr?: string;
}

export async function readCatalog(client: LxdClient): Promise<Catalog> {
  const [images, remotes] = await Promise.all([
    client.query<LxdImage[]>("/1.0/images?recursion=1"),
    client
      .run(["remote", "list", "--format=json"])
      .then((o) => (o.code === 0 ? (JSON.parse(o.stdout) as Record<string, RemoteInfo>) : {}))
      .catch(() => ({})),
  ]);
  const remoteNames: Record<string, string> = {};
  for (const [name, r] of Object.entries(remotes)) {
    const addr = r.Addr ?? r.addr;
    if (addr) remoteNames[addr] = name;
  }
  return { images, remoteNames };
}

/** The image of each system; throws for those with no local image and no remote named. */
export function imagesFor(backend: Backend, catalog: Catalog): Map<string, ImageChoice> {
  const out = new Map<string, ImageChoice>();
  const missing: string[] = [];
  for (const system of backend.systems) {
    const key = system.image !== system.name ? system.image : undefined;
    const choice = chooseImage(system.name, key, catalog.images, catalog.remoteNames);
    // A remote image is fetched only when the project names its remote (`image: images:debian/12`).
    if (choice.how === "remote" && !(key ?? "").includes(":")) {
      missing.push(`${system.name} (looked for local aliases ${lxdImageAliases(system.name, key).join(", ")})`);
    }
    out.set(system.name, choice);
  }
  if (missing.length > 0) {
    const names = backend.systems
      .filter((s) => missing.some((m) => m.startsWith(`${s.name} `)))
      .map((s) => (s.image !== s.name ? s.image : s.name));
    throw new TroupeError(
      "E_BACKEND",
      `lxd: no image for ${missing.join("; ")}: build it with \`troupe image build ${names.join(" ")}\`, ` +
        `or name a remote image (image: images:debian/12)`,
    );
  }
  return out;
}
