// Where the `prometheus:` section's server runs (pure): the orchestrator
// (default), one of the scenario's hosts (`on: HOST`), or a host of its own
// (`on: NAME` with `backend:`), which is allocated with the others but
// picked by no stage, as Octogram's `prometheus_agent` is no agent of the
// stages.

import type { YamlPath } from "../config/yaml-positions.js";
import type { Backend } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { foldHostlist } from "../util/hostlist.js";
import { planHosts, type HostProblem } from "./hosts.js";
import type { PlannedHost, PrometheusDefinition, PrometheusPlan } from "./types.js";

export const ORCHESTRATOR = "orchestrator";

export function planPrometheus(
  def: PrometheusDefinition,
  hosts: readonly PlannedHost[],
  backends: readonly Backend[],
  posOf: (path: YamlPath) => SourcePos | undefined,
): { plan: PrometheusPlan; problems: HostProblem[] } {
  const problems: HostProblem[] = [];
  const problem = (key: string, message: string): void => {
    const pos = posOf(["prometheus", key]);
    problems.push({ ...(pos ? { pos } : {}), path: ["prometheus", key], message });
  };
  const base: PrometheusPlan = {
    ...(def.scrape_interval ? { scrapeInterval: def.scrape_interval } : {}),
    ...(def.binary ? { binary: def.binary } : {}),
  };
  const on = def.on ?? ORCHESTRATOR;
  if (on === ORCHESTRATOR) {
    if (def.backend !== undefined) problem("backend", "backend: gives Prometheus a host of its own: name it with on: NAME");
    if (def.system !== undefined) problem("system", "system: goes with on: NAME and backend:");
    return { plan: base, problems };
  }
  const known = hosts.some((h) => h.name === on);
  if (def.backend === undefined) {
    if (def.system !== undefined) problem("system", "system: goes with backend: (a host of its own for Prometheus)");
    if (!known)
      problem(
        "on",
        `no host '${on}': name one of the scenario's hosts (${foldHostlist(hosts.map((h) => h.name)) || "none"}) or orchestrator, ` +
          `or add backend: to give Prometheus a host of its own named ${on}`,
      );
    return { plan: { ...base, host: on }, problems };
  }
  if (known) {
    problem("on", `'${on}' is one of the scenario's hosts: drop backend: to run Prometheus on it, or give its own host another name`);
    return { plan: base, problems };
  }
  const onPos = posOf(["prometheus", "on"]);
  const backendPos = posOf(["prometheus", "backend"]);
  const systemPos = posOf(["prometheus", "system"]);
  const planned = planHosts(
    [
      {
        names: [on],
        backend: def.backend,
        ...(def.system !== undefined ? { system: def.system } : {}),
        groups: [],
        path: ["prometheus"],
        ...(onPos ? { pos: onPos, namesPos: onPos } : {}),
        ...(backendPos ? { backendPos } : {}),
        ...(systemPos ? { systemPos } : {}),
      },
    ],
    backends,
  );
  // planHosts speaks of hosts: entries; here the name is under on:.
  problems.push(...planned.problems.map((p) => ({ ...p, path: p.path.map((k) => (k === "names" ? "on" : k)) })));
  const own = planned.hosts[0];
  if (!own) return { plan: base, problems };
  // Counted after the scenario's hosts of the same system (ssh: the next machine of its list).
  const index = hosts.filter((h) => h.backend.name === own.backend.name && h.system.name === own.system.name).length + 1;
  return { plan: { ...base, host: on, ownHost: { ...own, index } }, problems };
}

/** Every host the scenario allocates: its hosts, and Prometheus' own host when it has one. */
export function scenarioMachines(plan: { readonly hosts: readonly PlannedHost[]; readonly prometheus?: PrometheusPlan }): PlannedHost[] {
  return [...plan.hosts, ...(plan.prometheus?.ownHost ? [plan.prometheus.ownHost] : [])];
}
