// Octogram's recipe format (tezos's src/lib_octogram: recipe.ml, stage.ml,
// job.ml), read unchanged:
//
//   octogram_binary: {push|pull|installed: ...}   accepted; troupe puts no agent on the hosts
//   agents: [{name, address, user, port, identity}]   SSH hosts, one per agent
//   prometheus_agent: {name, address, ...}          Prometheus on that agent (a host of its own no stage picks)
//   vars: {...}
//   stages: [{name, with_agents, run_agents, run_jobs, ask_confirmation, jobs}]
//   jobs: [{name, with_items, run_items, vars_updates, copy: {local_path, remote_path}} | plugin job]
//
// The recipe becomes troupe's scenario data (`hosts`, `with_hosts`,
// `run_hosts`, `copy: {from, to}`), and `octogramPath` maps troupe's paths
// back to the recipe's keys, so that every problem points at what the
// recipe says. Pure.

import * as z from "zod";
import { toJson } from "../config/json-schema.js";
import { strict, text } from "../config/schema/common.js";
import { pluginJobFields } from "../plugins/registry.js";
import type { YamlPath } from "../config/yaml-positions.js";
import type { Backend, System } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { MODE_VALUES, type ScenarioData } from "./schema.js";

/** The backend an Octogram recipe's agents belong to (`--backend-as agents=local` runs them as local processes). */
export const AGENTS_BACKEND = "agents";

const agent = strict({
  name: text.describe("the agent's name: stages pick agents with regular expressions over it"),
  address: text.describe("where it is reached over SSH"),
  user: text,
  port: z.number().int().min(1).max(65535),
  identity: text.describe("the SSH private key"),
});

const varUpdate = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  strict({ value: z.union([z.string(), z.number(), z.boolean()]), as: z.enum(["string", "int", "bool", "json"]).optional() }),
]);

const jobFields = {
  name: text.describe("the job's name (required by Octogram)"),
  with_items: z.unknown().optional(),
  run_items: z.enum(MODE_VALUES).optional(),
  vars_updates: z.record(z.string(), varUpdate.optional()).optional(),
  copy: strict({
    local_path: text.describe("a file or directory of the orchestrator, relative to the current directory"),
    remote_path: text.describe("where it goes on the agent, relative to its directory"),
  }).optional(),
};

/** An Octogram recipe; with `pluginJobs`, its jobs' plugin keys too (for editors: the loader takes them out first). */
export function octogramSchema(options: { pluginJobs?: boolean } = {}) {
  const job = strict({ ...jobFields, ...((options.pluginJobs ? pluginJobFields() : {}) as object) });
  return strict({
    octogram_binary: z.unknown().optional().describe("where Octogram's agent binary comes from; troupe needs none"),
    agents: z.array(agent).optional(),
    prometheus_agent: agent.optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    stages: z.array(
      strict({
        name: text,
        with_agents: z.union([text, z.array(text)]).optional(),
        run_agents: z.enum(MODE_VALUES).optional(),
        run_jobs: z.enum(MODE_VALUES).optional(),
        ask_confirmation: z.boolean().optional(),
        jobs: z.array(job),
      }),
    ),
  });
}

export type OctogramData = z.output<ReturnType<typeof octogramSchema>>;

/** The JSON Schema of Octogram recipes, with the plugins' job kinds and their arguments (for `troupe schema octogram`). */
export function octogramJsonSchema(): Record<string, unknown> {
  return toJson(octogramSchema({ pluginJobs: true }), "Octogram recipe (troupe play)");
}
type Agent = z.output<typeof agent>;

/** troupe's path of a piece of the converted data -> the recipe's path of the same piece. */
export function octogramPath(path: YamlPath): YamlPath {
  const out = [...path];
  if (out[0] === "hosts") {
    out[0] = "agents";
    if (out[2] === "names") out[2] = "name";
    else if (out[2] === "backend" || out[2] === "system") out[2] = "address";
  } else if (out[0] === "prometheus") {
    out[0] = "prometheus_agent";
    if (out[1] === "on") out[1] = "name";
    else if (out[1] === "backend" || out[1] === "system") out[1] = "address";
  } else if (out[0] === "stages") {
    if (out[2] === "with_hosts") out[2] = "with_agents";
    if (out[2] === "run_hosts") out[2] = "run_agents";
    if (out[2] === "jobs" && out[4] === "copy") {
      if (out[5] === "from") out[5] = "local_path";
      if (out[5] === "to") out[5] = "remote_path";
    }
  }
  return out;
}

/**
 * The recipe as troupe's scenario data, and the backend of its agents: an
 * ssh backend with one system per agent (its address, user, port and key),
 * so that several agents on one address are separate hosts. The
 * prometheus_agent is Prometheus' host: one of the agents when it has an
 * agent's name, else a host of its own (a system more) that no stage picks,
 * as Octogram's stages run on its agents only.
 */
export function convertOctogram(
  data: OctogramData,
  posOf: (path: YamlPath) => SourcePos | undefined,
  file: string,
): { data: ScenarioData; backend: Backend } {
  const agents = data.agents ?? [];
  const where = (path: YamlPath): SourcePos => posOf(path) ?? { file, line: 1, col: 1 };
  const system = (a: Agent, path: YamlPath): System => ({
    name: a.name,
    backend: AGENTS_BACKEND,
    image: a.name,
    workers: 1,
    pos: where(path),
    where: { hosts: where([...path, "address"]), "identity-file": where([...path, "identity"]) },
    environment: [],
    extra: { hosts: [`${a.user}@${a.address}:${a.port}`], "identity-file": a.identity },
  });
  const systems: System[] = agents.map((a, i) => system(a, ["agents", i]));
  const prom = data.prometheus_agent;
  const promOwnHost = prom !== undefined && !agents.some((a) => a.name === prom.name);
  if (prom && promOwnHost) systems.push(system(prom, ["prometheus_agent"]));
  const backend: Backend = {
    name: AGENTS_BACKEND,
    type: "ssh",
    pos: where(["agents"]),
    where: {},
    environment: [],
    systems,
    extra: {},
  };
  const converted = {
    hosts: agents.map((a) => ({ names: a.name, backend: AGENTS_BACKEND, system: a.name })),
    vars: data.vars ?? {},
    ...(prom ? { prometheus: { on: prom.name, ...(promOwnHost ? { backend: AGENTS_BACKEND, system: prom.name } : {}) } } : {}),
    stages: data.stages.map((s) => ({
      name: s.name,
      ...(s.with_agents !== undefined ? { with_hosts: s.with_agents } : {}),
      ...(s.run_agents !== undefined ? { run_hosts: s.run_agents } : {}),
      ...(s.run_jobs !== undefined ? { run_jobs: s.run_jobs } : {}),
      ...(s.ask_confirmation !== undefined ? { ask_confirmation: s.ask_confirmation } : {}),
      jobs: s.jobs.map((j) => ({
        name: j.name,
        ...(j.with_items !== undefined ? { with_items: j.with_items } : {}),
        ...(j.run_items !== undefined ? { run_items: j.run_items } : {}),
        ...(j.vars_updates !== undefined ? { vars_updates: j.vars_updates } : {}),
        ...(j.copy ? { copy: { from: j.copy.local_path, to: j.copy.remote_path } } : {}),
      })),
    })),
  };
  return { data: converted, backend };
}
