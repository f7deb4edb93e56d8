// The report writers: everything that prints or writes results.
export * from "./events.js";
export { attachWriters, type AttachOptions, type AttachedWriters } from "./attach.js";
export { TerminalWriter, type TerminalOptions, type Verbosity } from "./terminal.js";
export { ResultsWriter, type ResultsOptions } from "./results.js";
export type { RunJson, JobJson, HookJson, HostJson, JobHostJson } from "./run-json.js";
export { RUN_JSON_FORMAT } from "./run-json.js";
export { toJUnit, writeJUnit } from "./junit.js";
export { toJson, writeJson, readRunJson } from "./json.js";
export { formatSummary, hookSummaryName, type HookFailure, type SummaryInput } from "./summary.js";
export { shouldColor, makeColors, type Colors } from "./colors.js";
export { parseJobName, safeName, summaryName, type JobNameParts } from "./names.js";
export { formatTimestamp, formatElapsed, tail, type TimeZone } from "./format.js";
export { writeFileAtomic } from "./atomic.js";
