// exec/: running the matrix. runJobs is the engine; the rest is exported for
// tests and for other front doors (scenarios) that run hook scripts.

export { runJobs } from "./engine.js";
export type { RunModes, RunOptions, RunOutcome } from "./options.js";
export { buildScript, buildShellScript, exportLine, HELPER_FUNCTIONS } from "./prelude.js";
export type { ScriptSpec, VarList } from "./prelude.js";
export { MARKER_EXIT, parseMarker, type Marker } from "../script/markers.js";
export { runHook, type HookRun, type HookOutcome } from "./hook-runner.js";
export { jobVars, assignmentVars, rebootVars } from "./host-vars.js";
export { slotsFor, scriptsForRole, joinScripts, systemKey, type Slot, type TaskScripts } from "./roles.js";
export { pickJob, staff, workerCounts, type PendingJob, type SchedWorker, type Pick } from "./scheduler.js";
export { effectiveTimeouts, type EffectiveTimeouts } from "./timeouts.js";
export { shQuote, varName } from "./shell-quote.js";
export type { HostAssignment, JobSession, JobSessionFactory } from "./job-session.js";
