// Which LXD image a system launches, as Spread decides it (spread/lxd.go),
// plus troupe's local aliases. Pure: the image list is given.
//
// Spread's order: a cached local image whose properties match the system
// (os, release, version, architecture, aliases, and the remote it came
// from), else the remote name made from the system's name: `ubuntu-22.04`
// is `ubuntu:22.04/amd64`, `debian-12` is `images:debian/12/amd64`, an
// `image:` with a remote (`images:alpine/3.19`) is taken as it is. troupe
// looks up local aliases first (`lxdImageAliases`): `troupe image build`
// imports its images under them, and no image server is needed.

import { arch } from "node:os";

const DEB_ARCHES = new Set(["amd64", "i386", "armel", "armhf", "arm64", "powerpc", "ppc64el", "s390x"]);

/** Debian's name for this machine's architecture, as Spread's debArch(). */
export function debArch(nodeArch: string = arch()): string {
  const map: Record<string, string> = {
    ia32: "i386",
    x64: "amd64",
    arm: "armhf",
    arm64: "arm64",
    ppc64: "ppc64el",
    s390x: "s390x",
    ppc: "powerpc",
  };
  return map[nodeArch] ?? "amd64";
}

/** The remote and the name parts Spread matches an image against. */
export interface SpreadImageName {
  readonly remote: string;
  /** `["debian", "12", "amd64"]`, `["22.04", "amd64"]` for ubuntu. */
  readonly parts: readonly string[];
}

/** How Spread reads a system's image name (lxdLocalImage). */
export function spreadImageName(image: string, hostArch = debArch()): SpreadImageName {
  let parts = image.split("/");
  let remote = "";
  const first = parts[0] ?? "";
  const colon = first.indexOf(":");
  if (colon >= 0) {
    remote = first.slice(0, colon);
    parts[0] = first.slice(colon + 1);
  } else if (parts.length === 1) {
    parts = first.split("-");
  }
  if (remote === "") {
    if (parts[0] === "ubuntu") {
      parts = parts.slice(1);
      remote = "ubuntu";
    } else {
      remote = "images";
    }
  }
  if (!DEB_ARCHES.has(parts[parts.length - 1] ?? "")) parts = [...parts, hostArch];
  return { remote, parts };
}

/** The image Spread launches when no local one matches: `ubuntu:22.04/amd64`, `images:debian/12/amd64`. */
export function spreadRemoteImage(image: string, hostArch = debArch()): string {
  if (image.includes(":")) return image;
  let parts = image.split("-");
  if (!DEB_ARCHES.has(parts[parts.length - 1] ?? "")) parts = [...parts, hostArch];
  if (parts[0] === "ubuntu") return `ubuntu:${parts.slice(1).join("/")}`;
  return `images:${parts.join("/")}`;
}

/**
 * The local aliases troupe looks up for a system, in order: the Spread image
 * name with its remote dropped (`debian/12`, `ubuntu/22.04`), then the
 * system's own name (`debian-12`), or the `image:` key's (when it has no
 * remote). `troupe image build NAME` imports its image under all of them.
 */
export function lxdImageAliases(systemName: string, imageKey?: string): string[] {
  const key = imageKey !== undefined && imageKey !== "" ? imageKey : systemName;
  const out: string[] = [];
  const colon = key.indexOf(":");
  if (colon >= 0) {
    const remote = key.slice(0, colon);
    const rest = key.slice(colon + 1);
    out.push(remote === "ubuntu" && !rest.startsWith("ubuntu/") ? `ubuntu/${rest}` : rest);
  } else if (key.includes("/")) {
    out.push(key);
  } else {
    const parts = key.split("-");
    out.push(parts.join("/"));
    out.push(key);
  }
  if (key === systemName || imageKey === undefined || imageKey === "") out.push(systemName);
  return [...new Set(out.filter((a) => a !== ""))];
}

/**
 * Properties for an image to be found by Spread's own lookup (the real
 * `spread` binary's lxd backend) under a system's name: os, version,
 * architecture and the remote it would come from. For `troupe image build`.
 */
export function spreadImageProperties(systemName: string, hostArch = debArch()): Record<string, string> {
  const { remote, parts } = spreadImageName(systemName, hostArch);
  const os = remote === "ubuntu" ? "ubuntu" : (parts[0] ?? systemName);
  const version = remote === "ubuntu" ? (parts[0] ?? "") : (parts[1] ?? "");
  return {
    os,
    version,
    architecture: hostArch,
    remote,
    aliases: lxdImageAliases(systemName).join(","),
  };
}

/** One image as LXD lists it (`/1.0/images?recursion=1`), the fields used here. */
export interface LxdImage {
  readonly fingerprint: string;
  readonly aliases?: readonly { readonly name: string }[] | null;
  readonly properties?: Readonly<Record<string, string>> | null;
  readonly update_source?: { readonly server?: string; readonly alias?: string } | null;
  readonly type?: string;
}

export interface ImageChoice {
  /** What `lxc launch` is given: a local alias, a fingerprint or a remote image. */
  readonly launch: string;
  /** `alias`: a local alias; `cached`: a local image by Spread's matching; `remote`: to be fetched. */
  readonly how: "alias" | "cached" | "remote";
}

/**
 * The image for a system: a local alias first, then a cached image Spread
 * would take (`remoteNames` maps a remote's URL to its name, from `lxc remote
 * list`), else the remote image Spread would launch.
 */
export function chooseImage(
  systemName: string,
  imageKey: string | undefined,
  images: readonly LxdImage[],
  remoteNames: Readonly<Record<string, string>> = {},
  hostArch = debArch(),
): ImageChoice {
  const containers = images.filter((i) => i.type === undefined || i.type === "container");
  for (const alias of lxdImageAliases(systemName, imageKey)) {
    if (containers.some((i) => (i.aliases ?? []).some((a) => a.name === alias))) return { launch: alias, how: "alias" };
  }
  const image = imageKey !== undefined && imageKey !== "" ? imageKey : systemName;
  const { remote, parts } = spreadImageName(image, hostArch);
  for (const i of containers) {
    const p = i.properties ?? {};
    const server = i.update_source?.server ?? "";
    if (server !== "" && remoteNames[server] !== remote) continue;
    // Spread's own words: exported and imported images lose their remote.
    if (server === "" && p["remote"] !== remote) continue;
    const aliases = (p["aliases"] ?? "").split(",");
    const known = [p["os"], p["label"], p["release"], p["version"], p["architecture"]];
    if (parts.every((part) => known.includes(part) || aliases.includes(part))) return { launch: i.fingerprint, how: "cached" };
  }
  return { launch: spreadRemoteImage(image, hostArch), how: "remote" };
}
