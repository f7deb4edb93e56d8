// Containers through the Engine API: what the driver, `troupe gc` and
// `troupe exec docker:...` share. Removal is forced (a running container
// goes too) and quiet when the container is gone already.

import { spawnSync } from "node:child_process";
import { TroupeError } from "../../util/errors.js";
import { DockerApiError, type DockerApi, type Endpoint } from "./engine-api.js";

/** Labels the docker backend adds to troupe's owner labels (gc/owner.ts). */
export const LABEL_BACKEND = "troupe-backend";
export const LABEL_SYSTEM = "troupe-system";
export const LABEL_HOST = "troupe-host";

export interface ContainerSummary {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly Labels: Readonly<Record<string, string>> | null;
  readonly State: string;
}

export interface ContainerInspect {
  readonly Id: string;
  readonly Name: string;
  readonly State: { readonly Running: boolean; readonly Status: string };
  readonly Config: { readonly Hostname: string; readonly Labels: Readonly<Record<string, string>> | null };
  readonly NetworkSettings: {
    readonly IPAddress?: string;
    readonly Networks?: Readonly<Record<string, { readonly IPAddress?: string }>>;
  };
}

/** The container's name without the engine's leading `/`. */
export function shownName(s: ContainerSummary | ContainerInspect): string {
  const name = "Names" in s ? (s.Names[0] ?? s.Id.slice(0, 12)) : s.Name;
  return name.replace(/^\//, "");
}

/** How other hosts reach it: its address on its first network, else its hostname (network host or none). */
export function addressOf(c: ContainerInspect): string {
  if (c.NetworkSettings.IPAddress) return c.NetworkSettings.IPAddress;
  for (const n of Object.values(c.NetworkSettings.Networks ?? {})) if (n.IPAddress) return n.IPAddress;
  return c.Config.Hostname;
}

export async function inspectContainer(api: DockerApi, id: string): Promise<ContainerInspect | undefined> {
  try {
    return await api.json<ContainerInspect>("GET", `/containers/${encodeURIComponent(id)}/json`, `inspecting container ${id}`);
  } catch (err) {
    if (err instanceof DockerApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Containers whose labels match `labels` (`key` or `key=value`), stopped ones too. */
export function listContainers(api: DockerApi, labels: readonly string[], signal?: AbortSignal): Promise<ContainerSummary[]> {
  return api.json<ContainerSummary[]>("GET", "/containers/json", "listing containers", {
    query: { all: true, filters: JSON.stringify({ label: labels }) },
    ...(signal ? { signal } : {}),
  });
}

/** Remove a container and its anonymous volumes, running or not; gone already is fine. */
export async function removeContainer(api: DockerApi, id: string): Promise<void> {
  try {
    await api.json("DELETE", `/containers/${encodeURIComponent(id)}`, `removing container ${id}`, { query: { force: true, v: true } });
  } catch (err) {
    // 404: gone; 409: its removal is already under way.
    if (err instanceof DockerApiError && (err.status === 404 || err.status === 409)) return;
    throw err;
  }
}

/** The one-line error for an image the engine does not have. */
export function missingImage(image: string, where: string): TroupeError {
  return new TroupeError(
    "E_BACKEND",
    `docker: no image ${image} at ${where}: build it with \`troupe image build ${image.replace(/:latest$/, "")}\` or \`docker pull ${image}\``,
  );
}

/**
 * Remove containers synchronously, for the process's `exit` event (when an
 * event loop is no longer there): a child Node process sends the requests.
 */
export function removeContainersSync(endpoint: Endpoint, apiVersion: string, ids: readonly string[]): void {
  if (ids.length === 0) return;
  const code = `
const http = require("node:http");
const [endpoint, ids] = JSON.parse(process.argv[1]);
let left = ids.length;
for (const id of ids) {
  const req = http.request({ ...endpoint, method: "DELETE", path: "/${apiVersion}/containers/" + id + "?force=true&v=true" }, (res) => {
    res.resume();
    res.on("end", () => { if (--left === 0) process.exit(0); });
  });
  req.on("error", () => { if (--left === 0) process.exit(0); });
  req.end();
}`;
  spawnSync(process.execPath, ["-e", code, JSON.stringify([endpoint, ids])], { stdio: "ignore", timeout: 30_000 });
}
