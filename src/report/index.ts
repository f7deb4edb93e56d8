// Reporting: the event stream, the run model every reporter reads, and the
// reporters (everything that prints or writes results).
export * from "./events.js";
export { attachReporters, type ReportOptions } from "./attach.js";
export { ReporterHub, type HubOptions } from "./hub.js";
export type { Reporter } from "./reporter.js";
export { RunModel } from "./model/run-model.js";
export type { HookState, HostState, JobState, StageState, StepState, ScenarioState } from "./model/state.js";
export { TerminalReporter, type TerminalOptions, type Verbosity } from "./reporters/terminal.js";
export { ScenarioTerminal, type ScenarioTerminalOptions } from "./reporters/scenario-terminal.js";
export { HookLogs } from "./reporters/hook-logs.js";
export { HostLogs } from "./reporters/host-logs.js";
export { RunJsonFile } from "./reporters/run-json.js";
export { JUnitFile } from "./reporters/junit.js";
export { JsonCopy } from "./reporters/json-copy.js";
export { ScenarioResultsFile } from "./reporters/scenario-results.js";
export type { RunJson, JobJson, HookJson, HostJson, JobHostJson } from "./run-json.js";
export { RUN_JSON_FORMAT, toRunJson } from "./run-json.js";
export { SCENARIO_JSON, SCENARIO_JSON_FORMAT, toScenarioJson, type ScenarioJson, type StageJson, type StepJson } from "./scenario-json.js";
export { toJUnit, writeJUnit } from "./junit.js";
export { toJson, writeJson, readRunJson } from "./json.js";
export { formatSummary, hookSummaryName, type HookFailure, type SummaryInput, type SummaryEntry } from "./summary.js";
export { shouldColor, makeColors, type Colors } from "./colors.js";
export { parseJobName, safeName, summaryName, type JobNameParts } from "./names.js";
export { formatTimestamp, formatElapsed, tail, type TimeZone } from "./format.js";
export { writeFileAtomic } from "./atomic.js";
