// The docker output: the rootfs tarball imported through the Engine API
// (POST /images/create?fromSrc=-) as NAME:latest, labelled as troupe's and
// with the recipe's key, so that a rebuild knows it is there already and
// `troupe image rm` removes only what troupe made.

import { createReadStream } from "node:fs";
import { DockerApi, DockerApiError, readAll } from "../backends/docker/engine-api.js";
import { TroupeError } from "../util/errors.js";

export const IMAGE_LABEL = "troupe.image";
export const RECIPE_LABEL = "troupe.image.recipe";
export const SYSTEM_LABEL = "troupe.image.system";

interface ImageInspect {
  readonly Id: string;
  readonly Config?: { readonly Labels?: Readonly<Record<string, string>> | null };
}

/** The engine answers (E_BACKEND saying how to start one when not). */
export async function checkDocker(api: DockerApi = new DockerApi()): Promise<void> {
  const res = await api.request("GET", "/_ping");
  res.body.resume();
  if (res.status !== 200) throw new TroupeError("E_BACKEND", `docker: the engine at ${api.display} answers ${res.status} to a ping`);
}

/** NAME:latest's id and labels, or undefined when there is no such image. */
export async function dockerImage(
  name: string,
  api: DockerApi = new DockerApi(),
): Promise<{ id: string; labels: Record<string, string> } | undefined> {
  try {
    const i = await api.json<ImageInspect>("GET", `/images/${encodeURIComponent(`${name}:latest`)}/json`, `inspect image ${name}:latest`);
    return { id: i.Id, labels: { ...(i.Config?.Labels ?? {}) } };
  } catch (e) {
    if (e instanceof DockerApiError && e.status === 404) return undefined;
    throw e;
  }
}

/** Whether NAME:latest is troupe's image of recipe `key`. */
export async function dockerHas(name: string, key: string, api?: DockerApi): Promise<boolean> {
  const i = await dockerImage(name, api);
  return i !== undefined && i.labels[IMAGE_LABEL] === "1" && i.labels[RECIPE_LABEL] === key;
}

/** Import `rootfsTar` as NAME:latest; returns the image id. */
export async function dockerImport(
  name: string,
  system: string,
  key: string,
  rootfsTar: string,
  signal?: AbortSignal,
  api: DockerApi = new DockerApi(),
): Promise<string> {
  const previous = await dockerImage(name, api);
  const changes = [`LABEL ${IMAGE_LABEL}=1 ${RECIPE_LABEL}=${key} ${SYSTEM_LABEL}=${system}`, 'CMD ["/bin/bash"]'];
  const query = [
    `fromSrc=-`,
    `repo=${encodeURIComponent(name)}`,
    "tag=latest",
    ...changes.map((c) => `changes=${encodeURIComponent(c)}`),
  ].join("&");
  const res = await api.request("POST", `/images/create?${query}`, {
    body: createReadStream(rootfsTar),
    contentType: "application/x-tar",
    ...(signal ? { signal } : {}),
  });
  const text = await readAll(res.body);
  // The answer is a stream of JSON progress messages; a failure is one with "error".
  const failure = text
    .split("\n")
    .map((l) => {
      try {
        return (JSON.parse(l) as { error?: string }).error;
      } catch {
        return undefined;
      }
    })
    .find((e) => e);
  if (res.status >= 400 || failure)
    throw new TroupeError("E_BACKEND", `docker: importing ${name}:latest failed: ${failure ?? text.trim()}`);
  const made = await dockerImage(name, api);
  if (!made) throw new TroupeError("E_BACKEND", `docker: ${name}:latest is not there after importing it`);
  // The image the tag named before (an older recipe's) would be left untagged: remove it, if it is troupe's and unused.
  if (previous && previous.id !== made.id && previous.labels[IMAGE_LABEL] === "1") {
    await api.json("DELETE", `/images/${previous.id}`, `remove the previous ${name}:latest`).catch(() => undefined);
  }
  return made.id;
}

/** Remove NAME:latest if it is troupe's; says what it did. */
export async function dockerRemove(name: string, api: DockerApi = new DockerApi()): Promise<"removed" | "absent" | "not troupe's"> {
  const i = await dockerImage(name, api);
  if (!i) return "absent";
  if (i.labels[IMAGE_LABEL] !== "1") return "not troupe's";
  // By its tag and without force: an image a container still uses stays (and the engine says so).
  await api.json("DELETE", `/images/${encodeURIComponent(`${name}:latest`)}`, `remove image ${name}:latest`);
  return "removed";
}
