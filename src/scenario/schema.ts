// The schema of a scenario file (scenario.yaml or scenario.json), and of the
// object the TypeScript API takes (the same, plus `call` jobs). Validation
// goes through config/issues.ts, so every problem reads
// `file:line:col: stages[1].jobs[0].run_items: must be one of ...`.
//
// What the schema cannot say (exactly one of run/copy/service per job, host
// names, regular expressions, templates) plan.ts checks, with positions too.

import * as z from "zod";
import { toJson } from "../config/json-schema.js";
import { duration, strict, text, textInput } from "../config/schema/common.js";
import { pluginJobFields } from "../plugins/registry.js";

export const MODE_VALUES = ["sequential", "concurrent"] as const;
const mode = z.enum(MODE_VALUES);

export const LOG_VALUES = ["stream", "keep", "summary"] as const;
/** Where a step's or service's output goes (logs.ts); job > stage > scenario, default stream. */
function logFields() {
  return {
    log: z
      .enum(LOG_VALUES)
      .optional()
      .describe(
        "stream: every line to troupe as it comes (default); keep: to a file on the host, fetched at the end; summary: keep, and show the last log_lines lines",
      ),
    log_lines: z.number().int().positive().optional().describe("with log: summary, how many last lines to show (default 20)"),
  };
}

/** One item or variable value: anything JSON can hold. */
const value: z.ZodType<unknown> = z.unknown();

const textOrList = z.union([text, z.array(text)]);

const hostsEntry = z.union([
  text,
  strict({
    names: textOrList.describe("host names or ranges: node-[1..20], web,db[1..2]"),
    backend: text.optional().describe("a backend declared under backends:, or local / lab; default local"),
    system: text.optional().describe("a system of that backend (default: its first)"),
    groups: textOrList.optional().describe("groups these hosts belong to"),
    image: text
      .optional()
      .describe(
        "a Docker image the group's hosts run the experiment in (ec2/google: a container on each machine; docker: the container itself)",
      ),
  }),
]);

const withItems = z
  .union([strict({ product: z.array(value) }).describe("the product of several item lists: item is a list"), value])
  .describe('items: one, a list, ranges like "5..9", or {product: [list, list]}');

const varUpdate = z.union([
  textInput,
  strict({
    value: textInput.describe("a template; res holds the job's result"),
    as: z.enum(["string", "int", "bool", "json"]).optional(),
  }),
]);

function jobFields(api: boolean, pluginJobs: boolean) {
  return {
    // For editors only: the loader takes plugin jobs out before this schema reads a job (plugin-jobs.ts).
    ...((pluginJobs ? pluginJobFields() : {}) as object),
    name: text.optional().describe("the job's name; for a service, the service's name"),
    run: text.optional().describe("a shell script, run with set -eu"),
    copy: strict({ from: text, to: text }).optional().describe("copy files: from/to are paths or HOST://path"),
    service: text.optional().describe("a long-running command, stopped at the end"),
    endpoint: text.optional().describe("where the service answers; what HOST://NAME resolves to"),
    ready: text.optional().describe("a script run until it succeeds before the service counts as started"),
    ready_timeout: duration.optional(),
    metrics: text.optional().describe("the service's metrics path under its endpoint, e.g. /metrics"),
    with_items: withItems.optional(),
    run_items: mode.optional().describe("items run one after the other (default) or at once"),
    // A `key:` with nothing after it (null) removes the variable.
    vars_updates: z.record(z.string(), varUpdate.optional()).optional(),
    ignore_failure: z.boolean().optional(),
    env: z.record(z.string(), textInput.optional()).optional(),
    timeout: duration.optional(),
    ...logFields(),
    ...(api
      ? { call: z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", { message: "must be a function" }).optional() }
      : {}),
  };
}

function stageSchema(api: boolean, pluginJobs: boolean) {
  return strict({
    name: text.describe("the stage's name"),
    with_hosts: textOrList.optional().describe("regular expressions over host names; captures are re[1], re[2], ..."),
    run_hosts: mode.optional().describe("hosts run the stage at once (default) or one after the other"),
    run_jobs: mode.optional().describe("a host runs the jobs one after the other (default) or at once"),
    ask_confirmation: z.boolean().optional(),
    ...logFields(),
    jobs: z.array(strict(jobFields(api, pluginJobs))),
  });
}

export function scenarioSchema(options: { api?: boolean; pluginJobs?: boolean } = {}) {
  const api = options.api ?? false;
  return strict({
    name: text.optional(),
    summary: text.optional(),
    backends: z.record(z.string(), z.unknown()).optional().describe("backends, as in troupe.yaml"),
    hosts: z.array(hostsEntry),
    vars: z.record(z.string(), value).optional(),
    prometheus: strict({
      scrape_interval: text.optional().describe("how often Prometheus scrapes, e.g. 5s"),
      on: text
        .optional()
        .describe("where the Prometheus server runs: orchestrator (default), one of the hosts, or with backend: a host of its own"),
      backend: text.optional().describe("with on: NAME, a host of its own from this backend, picked by no stage"),
      system: text.optional().describe("with backend:, a system of that backend (default: its first)"),
      binary: text.optional().describe("the prometheus binary where it runs: a path or a name in PATH (default prometheus)"),
    })
      .optional()
      .describe("start Prometheus, scraping every service with metrics:"),
    ...logFields(),
    stages: z.array(stageSchema(api, options.pluginJobs ?? false)),
  });
}

export type ScenarioData = z.output<ReturnType<typeof scenarioSchema>>;
export type StageData = ScenarioData["stages"][number];
export type JobData = StageData["jobs"][number] & { readonly call?: (...args: never[]) => unknown };
export type HostsData = ScenarioData["hosts"][number];
export type VarUpdateData = z.output<typeof varUpdate>;

/** The JSON Schema of scenario files, with the plugins' job kinds and their arguments (for `troupe schema scenario`). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return toJson(scenarioSchema({ pluginJobs: true }), "troupe scenario (troupe play)");
}
