// JUnit XML for a scenario (`troupe play --junit FILE`), from scenario.json:
//
// - one <testsuite> per stage: `02 serve` (its number and name);
// - one <testcase> per step, that is per job, host and item: classname
//   `SCENARIO.STAGE` (dots inside each part become `_`, as for runs), name
//   `JOB on HOST` and ` [ITEM]` for an item of with_items;
// - a failed step has <failure message=REASON type=KIND> holding the end of
//   its output; a step stopped because the scenario stopped (an earlier
//   failure, Ctrl-C) has <error type="stopped">; a failure that
//   ignore_failure let pass is no failure, its <system-out> says so;
// - a scenario that could not run its steps (a host could not be had) has a
//   testcase `scenario` with <error> saying why, so that CI does not show it
//   green.
//
// Pure, like toJUnit: a report can be made again from any scenario.json.

import { dirname } from "node:path";
import { makeDirs } from "../util/mkdirs.js";
import { writeFileAtomic } from "./atomic.js";
import { junitDocument, type Case } from "./junit.js";
import type { ScenarioJson, StepJson } from "./scenario-json.js";

function part(s: string): string {
  return s.replace(/\./g, "_");
}

function stepCase(s: ScenarioJson, stage: string, x: StepJson): Case {
  const base = {
    classname: `${part(s.scenario)}.${part(stage)}`,
    name: `${x.job} on ${x.host}${x.item !== undefined ? ` [${x.item}]` : ""}`,
    timeMs: x.durationMs,
    ...(x.startTime ? { startTime: x.startTime } : {}),
  };
  const why = x.error ?? (x.exitCode === null ? "killed" : `exit status ${x.exitCode}`);
  switch (x.status) {
    case "failed":
      return { ...base, failure: { message: why, type: x.kind, body: x.output ?? "" }, out: "" };
    case "stopped":
      return { ...base, error: { message: why === "stopped" ? why : `stopped: ${why}`, type: "stopped" }, out: x.output ?? "" };
    case "ignored":
      return { ...base, out: `failed, ignored (ignore_failure): ${why}\n${x.output ?? ""}` };
    default:
      return { ...base, out: "" };
  }
}

/** The JUnit XML document for a scenario. */
export function scenarioJUnit(s: ScenarioJson): string {
  const suites = new Map<string, Case[]>();
  for (const st of s.stages) {
    suites.set(
      `${String(st.index).padStart(2, "0")} ${st.name}`,
      st.steps.map((x) => stepCase(s, st.name, x)),
    );
  }
  if (s.error) {
    suites.set("00 scenario", [
      { classname: part(s.scenario), name: "scenario", timeMs: s.durationMs, error: { message: s.error, type: "error" }, out: "" },
    ]);
  }
  return junitDocument(`troupe play ${s.scenario} (${s.runId})`, s.startedAt, s.durationMs, suites);
}

export async function writeScenarioJUnit(s: ScenarioJson, file: string): Promise<void> {
  await makeDirs(dirname(file));
  await writeFileAtomic(file, scenarioJUnit(s));
}
