// The library entry point: everything the CLI does, as an API.
export * from "./model/position.js";
export type * from "./model/project.js";
export type * from "./model/job.js";
export * from "./util/errors.js";
export * from "./report/events.js";
export type * from "./transport/transport.js";
export type * from "./backends/backend.js";
export { run, runProject, type RunRequest, type RunResult } from "./api/run.js";
export type { ReuseOptions } from "./backends/reuse/index.js";
export { openProject, plan, planFully, type OpenOptions, type PlanRequest, type FullPlan } from "./api/project.js";
export { resolveTargets, fanout, collate, type FanoutTarget, type HostOutcome } from "./api/fanout.js";
