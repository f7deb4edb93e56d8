import { test } from "node:test";
import assert from "node:assert/strict";
import type { ScenarioState, StageState, StepState } from "../../../src/report/model/state.js";
import { scenarioAnnotations, scenarioSummary } from "../../../src/report/reporters/github-scenario.js";

let ids = 0;
function step(
  stageIndex: number,
  jobIndex: number,
  job: string,
  host: string,
  status: StepState["status"],
  more: Partial<StepState> = {},
): StepState {
  return {
    id: ++ids,
    stage: `s${stageIndex}`,
    stageIndex,
    job,
    jobIndex,
    kind: "run",
    host,
    status,
    exitCode: status === "passed" ? 0 : 1,
    startMs: 0,
    durationMs: 1000,
    ...more,
  };
}

function stage(index: number, status: StageState["status"], steps: StepState[]): StageState {
  return { index, name: `s${index}`, status, hosts: [...new Set(steps.map((s) => s.host))], startMs: 0, durationMs: 2000, steps };
}

function scenario(stages: StageState[], more: Partial<ScenarioState> = {}): ScenarioState {
  return {
    scenario: "demo",
    hostNames: [],
    totalStages: stages.length,
    status: "failed",
    exitCode: 1,
    durationMs: 3000,
    stages,
    services: [],
    vars: {},
    ...more,
  };
}

test("a failed step is an error at its job, naming stage, job, host and item, with the output's end", () => {
  const s = scenario([
    stage(1, "passed", [step(1, 0, "build", "n1", "passed")]),
    stage(2, "failed", [
      step(2, 1, "verify", "n1", "failed", { item: "b", error: "exit status 3", output: "x\ny" }),
      step(2, 0, "lint", "n1", "ignored", { error: "exit status 1" }),
    ]),
  ]);
  const seen: [number, number][] = [];
  const a = scenarioAnnotations(
    s,
    (si, ji) => (seen.push([si, ji]), { file: "s.yaml", line: 10 + ji, col: 9 }),
    (t) => `tail(${t})`,
  );
  assert.deepEqual(seen, [[2, 1]]);
  assert.deepEqual(a, [
    {
      kind: "error",
      title: "troupe: verify failed on n1",
      message: 'stage 2 "s2", job "verify", host n1, item b: exit status 3\ntail(x\ny)',
      pos: { file: "s.yaml", line: 11, col: 9 },
    },
  ]);
});

test("a scenario that could not run is one error without a place", () => {
  const a = scenarioAnnotations(scenario([], { status: "error", error: "cannot allocate node-1" }), undefined, (t) => t ?? "");
  assert.deepEqual(a, [{ kind: "error", title: "troupe: demo could not run", message: "cannot allocate node-1" }]);
});

test("the summary lists failed stages and steps first, then in stage, job and host order", () => {
  const md = scenarioSummary(
    scenario([
      stage(1, "passed", [step(1, 0, "build", "n2", "passed"), step(1, 0, "build", "n1", "passed")]),
      stage(2, "failed", [step(2, 0, "lint", "n1", "passed"), step(2, 1, "verify", "n1", "failed", { item: "b", error: "exit | 3" })]),
    ]),
    "run-1",
    "/r/run-1",
  );
  const rows = md.split("\n").filter((l) => /^\| (❌|✅) /.test(l));
  assert.deepEqual(rows, [
    "| ❌ failed | 2/2 `s2` | n1 | 2s |",
    "| ✅ passed | 1/2 `s1` | n2, n1 | 2s |",
    "| ❌ failed | 2 `s2` | `verify` | n1 | `b` | 1s | exit \\| 3 |",
    "| ✅ passed | 1 `s1` | `build` | n1 |  | 1s |  |",
    "| ✅ passed | 1 `s1` | `build` | n2 |  | 1s |  |",
    "| ✅ passed | 2 `s2` | `lint` | n1 |  | 1s |  |",
  ]);
  assert.match(md, /^### troupe play demo run-1: failed\n\n3 steps passed, 1 failed, 0 ignored, 0 stopped in /);
});
