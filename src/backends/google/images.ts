// Which image a system boots, by Spread's rules (spread/google.go):
//
// - `image: PROJECT/NAME` looks in PROJECT only;
// - `image: NAME` looks in the backend's own project first, then, when NAME
//   starts with ubuntu-, centos-, debian-, opensuse- or freebsd-, in the
//   public project of that distribution (ubuntu-os-cloud, ...);
// - in each project, in order: an image named NAME; the newest image of
//   the family NAME; the newest image whose description holds NAME's terms
//   in order (`ubuntu-16.04-64` matches "Canonical, Ubuntu, 16.04 LTS,
//   amd64 xenial image built on ...": terms are runs of letters, or numbers
//   with dots inside).
//
// A family match boots the family (`global/images/family/F`), so that GCE
// picks its newest image; so does a terms match on an image that has one.

import { TroupeError } from "../../util/errors.js";
import { isNotFound, type ComputeApi } from "./api.js";

const PUBLIC_PROJECTS: readonly (readonly [string, string])[] = [
  ["ubuntu-", "ubuntu-os-cloud"],
  ["centos-", "centos-cloud"],
  ["debian-", "debian-cloud"],
  ["opensuse-", "opensuse-cloud"],
  ["freebsd-", "freebsd-org-cloud-dev"],
];

/** Runs of lower-case letters, and numbers with dots inside: `Ubuntu 16.04 LTS` -> ubuntu, 16.04, lts. */
export function terms(s: string): string[] {
  return s.toLowerCase().match(/[a-z]+|[0-9](?:[0-9.]*[0-9])?/g) ?? [];
}

/**
 * Whether `subset` appears in `superset` in order (not necessarily adjacent);
 * as in Spread, one term of `superset` may stand for several equal ones in a row.
 */
export function containsTerms(superset: readonly string[], subset: readonly string[]): boolean {
  let j = 0;
  for (const term of subset) {
    while (j < superset.length && superset[j] !== term) j++;
    if (j === superset.length) return false;
  }
  return true;
}

/** The projects to look in, in order. */
export function lookupProjects(image: string, ownProject: string): { readonly project: string; readonly name: string }[] {
  const slash = image.indexOf("/");
  if (slash >= 0) return [{ project: image.slice(0, slash), name: image.slice(slash + 1) }];
  return [
    { project: ownProject, name: image },
    ...PUBLIC_PROJECTS.filter(([prefix]) => image.startsWith(prefix)).map(([, project]) => ({ project, name: image })),
  ];
}

export interface ImageItem {
  readonly name: string;
  readonly family?: string;
  readonly description?: string;
}

/** The boot disk's `sourceImage`, relative to the backend's project when the image is there. */
export function sourceImage(project: string, ownProject: string, ref: { readonly family?: string; readonly name?: string }): string {
  const prefix = project === ownProject ? "" : `projects/${project}/`;
  return ref.family ? `${prefix}global/images/family/${ref.family}` : `${prefix}global/images/${ref.name ?? ""}`;
}

/** The first terms match among images listed newest first. */
export function termsMatch(images: readonly ImageItem[], name: string): ImageItem | undefined {
  const want = terms(name);
  return images.find((i) => containsTerms(terms(i.description ?? ""), want));
}

interface ImageList {
  readonly items?: readonly ImageItem[];
  readonly nextPageToken?: string;
}

/** At most this many pages of 500 images per project for a terms match. */
const MAX_PAGES = 10;

async function listImages(api: ComputeApi, project: string): Promise<ImageItem[]> {
  const out: ImageItem[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = new URLSearchParams({ orderBy: "creationTimestamp desc", maxResults: "500", ...(token ? { pageToken: token } : {}) });
    const list = await api.call<ImageList>("GET", `projects/${project}/global/images?${q.toString()}`);
    out.push(...(list.items ?? []));
    token = list.nextPageToken;
    if (!token) break;
  }
  return out;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The `sourceImage` for `image`, found by Spread's rules; a one-line error naming the projects looked in. */
export async function resolveImage(api: ComputeApi, image: string, ownProject: string): Promise<string> {
  const lookups = lookupProjects(image, ownProject);
  for (const { project, name } of lookups) {
    // A name that is no valid resource name (dots, capitals) can only match by terms.
    const plain = /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name);
    if (plain) {
      const byName = await orUndefined(api.call<ImageItem>("GET", `projects/${project}/global/images/${name}`));
      if (byName) return sourceImage(project, ownProject, { name: byName.name });
      const byFamily = await orUndefined(api.call<ImageItem>("GET", `projects/${project}/global/images/family/${name}`));
      if (byFamily) return sourceImage(project, ownProject, { family: name });
    }
    const images = await orUndefined(listImages(api, project));
    const match = images && termsMatch(images, name);
    if (match) return sourceImage(project, ownProject, match.family ? { family: match.family } : { name: match.name });
  }
  const projects = lookups.map((l) => `"${l.project}"`).join(" or ");
  throw new TroupeError("E_BACKEND", `google: cannot find any image matching ${JSON.stringify(image)} on project ${projects}`);
}
