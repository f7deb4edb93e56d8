// scenario/: Octogram-style scenarios (`troupe play`): hosts from any
// backend, global variables, stages of jobs on hosts picked by regular
// expressions, items, templates, cross-host URIs, services.
//
//   schema.ts   the file's schema          load.ts    file -> checked data, positions
//   types.ts    definition and plan types  plan.ts    data -> plan (pure, all checks)
//   hosts.ts    host names, ranges, backends   select.ts  stage host selection
//   items.ts    with_items                 template.ts  Liquid, strict, positioned errors
//   vars.ts     copies and vars_updates    uris.ts    HOST://SERVICE, HOST://path
//   script.ts   a step's shell text        transfer.ts  copy jobs, file URIs (I/O)
//   services.ts long-running services      steps.ts   one step (I/O)
//   runner.ts   the whole run (I/O)        writer.ts / results.ts  terminal, scenario.json, logs
//   prometheus.ts  the prometheus: section (one call site to src/metrics)

export { loadScenarioFile, parseScenarioText, type LoadedScenario, type ScenarioSource } from "./load.js";
export { planScenario, type PlanOptions } from "./plan.js";
export { scenarioSchema, scenarioJsonSchema } from "./schema.js";
export { runScenario, type RunScenarioOptions, type ScenarioOutcome } from "./runner.js";
export type * from "./types.js";
