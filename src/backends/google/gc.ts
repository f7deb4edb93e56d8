// `troupe gc` for google: the instances with troupe's labels (troupe=1) in
// the Google projects of the project file here (each google backend's
// location and key), or in CLOUDSDK_CORE_PROJECT / GOOGLE_CLOUD_PROJECT with
// the default credentials when there is no project file. Which of them go is
// cloud/owner.ts's rule, the same as ec2's: past their halt time, or made on
// this machine by a troupe process that is gone.

import type { Collector, CollectOptions, Leftover } from "../../gc/collector.js";
import { parseOwnerLabels } from "../../gc/owner.js";
import { cloudCollectable } from "../cloud/owner.js";
import { loadProject } from "../../config/index.js";
import type { Backend } from "../../model/project.js";
import { isTroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import { ComputeApi, isNotFound, type Operation } from "./api.js";
import { findCredentials } from "./credentials.js";
import type { InstanceData } from "./instance.js";
import { evaluatedKey, hostEvaluated } from "./key.js";
import { googleLocation } from "./settings.js";

/** The leftovers among `instances` (pure but for /proc, which the owner check reads). */
export function googleLeftovers(project: string, instances: readonly InstanceData[], all = false, now = new Date()): Leftover[] {
  const out: Leftover[] = [];
  for (const i of instances) {
    const labels = i.labels ?? {};
    const owner = parseOwnerLabels(labels);
    if (!owner) continue;
    const why = cloudCollectable(labels, now) ?? (all ? "--all: its run may still be going" : undefined);
    if (!why) continue;
    const zone = (i.zone ?? "").split("/").pop() ?? "";
    out.push({
      type: "google",
      kind: "instance",
      id: `${project}/${zone}/${i.name}`,
      name: `${i.name} (${project}/${zone})`,
      ...(owner.run ? { run: owner.run } : {}),
      reason: why,
    });
  }
  return out;
}

interface Target {
  readonly project: string;
  readonly api: ComputeApi;
}

/** The Google projects to look in, each with its credentials. */
function targets(cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<Target[]> {
  return loadProject({ cwd, onWarning: () => undefined }).then(
    (p) => {
      const seen = new Map<string, Target>();
      for (const b of p.backends.filter((x: Backend) => x.type === "google")) {
        const { project } = googleLocation(b, hostEvaluated(b, "location", p.dir));
        if (seen.has(project)) continue;
        const credentials = findCredentials({ key: evaluatedKey(b, p.dir), baseDir: p.dir, env });
        seen.set(project, { project, api: new ComputeApi({ credentials, env }) });
      }
      return [...seen.values()];
    },
    (err: unknown) => {
      if (!isTroupeError(err) || err.code !== "E_NOT_FOUND") throw err;
      const project = env["CLOUDSDK_CORE_PROJECT"] || env["GOOGLE_CLOUD_PROJECT"];
      if (!project) return [];
      return [{ project, api: new ComputeApi({ credentials: findCredentials({ baseDir: cwd, env }), env }) }];
    },
  );
}

interface Aggregated {
  readonly items?: Readonly<Record<string, { readonly instances?: readonly InstanceData[] }>>;
  readonly nextPageToken?: string;
}

async function troupeInstances(t: Target, signal?: AbortSignal): Promise<InstanceData[]> {
  const out: InstanceData[] = [];
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ filter: 'labels.troupe = "1"', ...(token ? { pageToken: token } : {}) });
    const page = await t.api.call<Aggregated>("GET", `projects/${t.project}/aggregated/instances?${q.toString()}`, undefined, signal);
    for (const scope of Object.values(page.items ?? {})) out.push(...(scope.instances ?? []));
    token = page.nextPageToken;
  } while (token);
  return out;
}

/** A collector over the projects `targets` finds; the working directory and environment are the process's unless given. */
export function googleCollectorFor(
  o: { readonly cwd?: string; readonly env?: Readonly<Record<string, string | undefined>> } = {},
): Collector {
  const env = o.env ?? process.env;
  let found: Promise<Target[]> | undefined;
  const all = (): Promise<Target[]> => (found ??= targets(o.cwd ?? process.cwd(), env));
  return {
    type: "google",
    async find(options: CollectOptions) {
      let ts: Target[];
      try {
        ts = await all();
      } catch (err) {
        return { unavailable: errorText(err) };
      }
      if (ts.length === 0) {
        return {
          unavailable: "no google backend in a project file here, and neither CLOUDSDK_CORE_PROJECT nor GOOGLE_CLOUD_PROJECT is set",
        };
      }
      const out: Leftover[] = [];
      for (const t of ts) {
        try {
          out.push(...googleLeftovers(t.project, await troupeInstances(t, options.signal), options.all === true));
        } catch (err) {
          return { unavailable: `project ${t.project}: ${errorText(err)}` };
        }
      }
      return out;
    },
    async remove(leftover: Leftover, options: CollectOptions) {
      const [project, zone, name] = leftover.id.split("/");
      const t = (await all()).find((x) => x.project === project);
      if (!t || !zone || !name) return;
      try {
        const op = await t.api.call<Operation>("DELETE", `projects/${project}/zones/${zone}/instances/${name}`, undefined, options.signal);
        await t.api.wait(zone, project!, op, options.signal);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}

export const googleCollector: Collector = googleCollectorFor();
