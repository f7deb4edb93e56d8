// The adhoc backend: the project's allocate/discard scripts, then SSH.

export { createAdhocDriver, splitAddress, waitPortUp, type AdhocDriverOptions } from "./driver.js";
export { runAdhocScript, wrapScript, MARKER_EXIT, type ScriptOutcome, type ScriptRun } from "./script.js";
