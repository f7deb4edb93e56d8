// The library entry point: everything the CLI does, as an API.
export * from "./model/position.js";
export type * from "./model/project.js";
export type * from "./model/job.js";
export * from "./util/errors.js";
export * from "./report/events.js";
export type * from "./transport/transport.js";
export type * from "./backends/backend.js";
export { run, runProject, type RunRequest, type RunResult } from "./api/run.js";
export type { JobOutcome } from "./exec/tally.js";
export { registerBackendType, supportedBackendTypes, loadBackendTypes, driverFor } from "./backends/registry.js";
export { HostPool, type HostPoolOptions, type AllocateRequest } from "./hosts/pool.js";
export type { Reporter } from "./report/reporter.js";
export { ReporterHub } from "./report/hub.js";
export { RunModel } from "./report/model/run-model.js";
export type { HookState, HostState, JobState, StageState, StepState, ScenarioState } from "./report/model/state.js";
export { runScript, type ScriptRequest, type PreparedScript } from "./script/run-script.js";
export type { ScriptResult, ScriptFailure, FailureKind, OutputLine } from "./script/result.js";
export type { SyncSession, SyncClient } from "./sync/index.js";
export type { ReuseOptions } from "./backends/reuse/index.js";
export { openProject, plan, planFully, type OpenOptions, type PlanRequest, type FullPlan } from "./api/project.js";
export {
  openFleet,
  Fleet,
  resolveTargets,
  fanout,
  collate,
  type FanoutTarget,
  type HostOutcome,
  type TargetOptions,
  type FanoutOptions,
} from "./api/fanout.js";
export { play, playScenario, checkScenario, defineScenario, type PlayRequest, type PlayResult } from "./api/scenario.js";
export type {
  ScenarioDefinition,
  StageDefinition,
  JobDefinition,
  HostsDefinition,
  ItemsDefinition,
  VarUpdateDefinition,
  PrometheusDefinition,
  CallContext,
  CallFunction,
  Mode as ScenarioMode,
  Value as ScenarioValue,
  ScenarioPlan,
} from "./scenario/types.js";
export type { ScenarioJson, StageJson, StepJson } from "./report/scenario-json.js";
export { registerPlugin, loadedPlugins } from "./plugins/registry.js";
export { jobKind, type JobPlugin, type JobKind, type JobContext, type JobHost, type ServiceRequest } from "./plugins/plugin.js";
export {
  startPrometheus,
  startPrometheusOn,
  queryValues,
  type StartPrometheusOnOptions,
  type PrometheusServer,
  type StartPrometheusOptions,
  type ScrapeTarget,
  type QueryResult,
} from "./metrics/index.js";
