// What the lxd backend needs before any job runs, each missing piece one line
// that says what to do (E_BACKEND, exit 3): a client, a daemon that answers,
// an image for every system.

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

/** Throws when the daemon does not answer. */
export async function checkDaemon(client: LxdClient): Promise<void> {
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
