// Scenarios from code: everything `troupe play` does, as an API.
//
//   import { play, defineScenario } from "troupe";
//
//   const scenario = defineScenario({
//     hosts: [{ names: "node-[1..3]", backend: "lab" }],
//     vars: { port: 8000 },
//     stages: [
//       { name: "serve", jobs: [{ name: "http", service: "python3 -m http.server {{ vars.port }}",
//                                 endpoint: "http://{{ host.addr }}:{{ vars.port }}" }] },
//       { name: "check", with_hosts: "node-(\\d+)", jobs: [
//           { name: "probe", call: async (ctx) => (await ctx.exec("echo hi")).stdout },
//       ] },
//     ],
//   });
//   const result = await play({ scenario });   // result.exitCode, result.vars, result.results
//
// A scenario from code may have `call` jobs: TypeScript functions run on the
// orchestrator once per host and item, with the step's host, vars, item and
// captures, a way to run scripts there, and the sync service as that host.

import type { CloudGuards } from "../backends/backend.js";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { validate } from "../config/issues.js";
import { shouldColor } from "../report/colors.js";
import { EventStream } from "../report/events.js";
import { TroupeError, type Problem } from "../util/errors.js";
import { loadScenarioFile, type LoadedScenario, type ScenarioSource } from "../scenario/load.js";
import { takePluginJobs, type PluginJobs } from "../scenario/plugin-jobs.js";
import { planScenario } from "../scenario/plan.js";
import { attachReporters } from "../report/attach.js";
import { githubOption } from "../report/reporters/github.js";
import { stepLocator } from "../scenario/locate.js";
import { killedNotice, noteKilledRuns } from "../runs/killed.js";
import { latestLinkOf, runsDirOf } from "../runs/where.js";
import { pointLatest } from "../report/latest.js";
import { toScenarioJson, type ScenarioJson } from "../report/scenario-json.js";
import { runScenario } from "../scenario/runner.js";
import { scenarioSchema, type ScenarioData } from "../scenario/schema.js";
import type { ScenarioDefinition, ScenarioPlan, Value } from "../scenario/types.js";
import { onInterrupt } from "./interrupt.js";
import { newRunId } from "./run-id.js";
import { checkImageBackends } from "../scenario/hosts.js";

export interface PlayRequest {
  /** A scenario file, YAML or JSON (relative to `cwd`). */
  readonly file?: string;
  /** Or a scenario defined in code (may use `call` jobs). */
  readonly scenario?: ScenarioDefinition;
  /** Where `file` is looked for; for a scenario from code, where relative paths start and results go. Default: the current directory. */
  readonly cwd?: string;
  /** Initial values that replace the scenario's own vars (`--var key=value`). */
  readonly vars?: Readonly<Record<string, Value>>;
  /** Do not pause at ask_confirmation stages. */
  readonly yes?: boolean;
  /** How to ask at ask_confirmation stages; default: wait for Enter on the terminal (an error when stdin is not one). */
  readonly confirm?: (stage: string) => Promise<void>;
  /** 0: stages, failures and the result; 1 (default): also hosts, steps and live output; 2: also debug messages. */
  readonly verbosity?: 0 | 1 | 2;
  readonly color?: boolean;
  /** Also copy scenario.json here; "-": print it on stdout (the terminal writer then prints on stderr). */
  readonly json?: string;
  /** Also write JUnit XML here: a test case per stage, job, host and item. */
  readonly junit?: string;
  /** Say where the HTML report (`report.html`, written for every scenario) is, at the end. */
  readonly html?: boolean;
  /** Keep the results in DIR/<run-id>/ (and the newest at DIR/latest) instead of `.troupe/runs/` next to the scenario. */
  readonly resultsDir?: string;
  /** Serve the report live while the scenario goes on (`--serve`): true for loopback and a free port, or `[ADDR:]PORT`. */
  readonly serve?: string | true;
  /** Run backend NAME with another type: `{ lab: "local" }`. */
  readonly backendAs?: Readonly<Record<string, string>>;
  /** Cloud cost guards (`--max-hosts`, `--max-hours`), over the scenario's backends' own. */
  readonly cloudGuards?: CloudGuards;
  /** Subscribe to the event stream. */
  readonly events?: EventStream;
  /** Where the terminal writer prints (default process.stdout); `null` for nowhere. */
  readonly out?: (Writable & { isTTY?: boolean }) | null;
  /** Stops the scenario as Ctrl-C does (steps killed, services stopped, hosts discarded). */
  readonly signal?: AbortSignal;
}

export interface PlayResult {
  readonly exitCode: number;
  readonly status: "passed" | "failed" | "interrupted" | "error";
  readonly runId: string;
  readonly runDir: string;
  /** The variables at the end. */
  readonly vars: Readonly<Record<string, Value>>;
  /** What scenario.json holds. */
  readonly results: ScenarioJson | undefined;
}

/** Type-checks a scenario written in code (it returns it unchanged). */
export function defineScenario<T extends ScenarioDefinition>(scenario: T): T {
  return scenario;
}

/** Load and check a scenario (file or code) into the plan `play` would follow; nothing runs. */
export async function checkScenario(request: Pick<PlayRequest, "file" | "scenario" | "cwd" | "vars">): Promise<ScenarioPlan> {
  const cwd = resolve(request.cwd ?? process.cwd());
  let data: ScenarioData;
  let source: ScenarioSource | undefined;
  let plugins: PluginJobs = new Map();
  let backends: LoadedScenario["backends"];
  if (request.file !== undefined && request.scenario !== undefined)
    throw new TroupeError("E_USAGE", "give a scenario file or a scenario from code, not both");
  if (request.file !== undefined) {
    ({ data, source, plugins, backends } = await loadScenarioFile(request.file, cwd));
  } else if (request.scenario !== undefined) {
    ({ data, plugins } = checkDefinition(request.scenario));
  } else {
    throw new TroupeError("E_USAGE", "no scenario: give a file (troupe play scenario.yaml) or a scenario from code");
  }
  if (request.vars) {
    checkVarNames(data, request.vars);
    data = { ...data, vars: { ...(data.vars ?? {}), ...request.vars } };
  }
  return planScenario(data, source, { baseDir: cwd, plugins, ...(backends ? { backends } : {}) });
}

/** `--var NAME=...` must name a variable the scenario has: a typo would otherwise be ignored. */
function checkVarNames(data: ScenarioData, given: Readonly<Record<string, Value>>): void {
  const known = new Set(Object.keys(data.vars ?? {}));
  for (const s of data.stages) for (const j of s.jobs) for (const k of Object.keys(j.vars_updates ?? {})) known.add(k);
  const unknown = Object.keys(given).filter((k) => !known.has(k));
  if (unknown.length === 0) return;
  const names = [...known].sort();
  throw new TroupeError(
    "E_USAGE",
    `--var ${unknown.join(", ")}: the scenario has no such variable` +
      (names.length ? ` (its variables: ${names.join(", ")})` : " (it declares no vars:)") +
      "; declare it under vars: to set it from the command line",
  );
}

/** Run a scenario; resolves when it is over and cleaned up (never rejects for a failing step: see exitCode). */
export async function play(request: PlayRequest): Promise<PlayResult> {
  const plan = await checkScenario(request);
  checkImageBackends(plan.hosts, request.backendAs ? { backendAs: request.backendAs } : {});
  const asks = plan.stages.filter((s) => s.askConfirmation);
  let confirm = request.confirm;
  if (asks.length > 0 && !request.yes && !confirm) {
    if (!process.stdin.isTTY) {
      throw new TroupeError(
        "E_USAGE",
        `stage "${asks[0]!.name}" asks for confirmation (ask_confirmation: true) but standard input is not a terminal: pass --yes to go on without asking`,
      );
    }
  }

  const runId = newRunId();
  const runsDir = runsDirOf(plan.baseDir, request.resultsDir);
  const runDir = join(runsDir, runId);
  // Runs killed outright (kill -9) left their results saying `running`: say so there, and below.
  const killed = await noteKilledRuns(runsDir).catch(() => []);
  await mkdir(runDir, { recursive: true });
  // The newest run's results at .troupe/latest; a link that cannot be made only costs the shortcut.
  await pointLatest(runDir, latestLinkOf(runsDir)).catch(() => undefined);
  const events = request.events ?? new EventStream();
  // `--json` alone prints the results on stdout: what people read goes to stderr.
  const out = request.out === undefined ? (request.json === "-" ? process.stderr : process.stdout) : request.out;
  // The dashboard (and node:http) is loaded only for --serve: 5-15 ms of every other start.
  const live =
    request.serve !== undefined
      ? await (await import("../serve/index.js")).startDashboard(request.serve, runDir, "scenario", out)
      : undefined;
  const reports = attachReporters(events, {
    kind: "scenario",
    runDir,
    ...(live ? { live } : {}),
    ...(request.json ? { json: request.json === "-" ? "-" : resolve(request.json) } : {}),
    ...(request.junit ? { junit: resolve(request.junit) } : {}),
    ...(request.html ? { html: true } : {}),
    verbosity: request.verbosity ?? 1,
    tty: !!out?.isTTY,
    color: shouldColor({ tty: !!out?.isTTY, noColorFlag: request.color === false }),
    out,
    err: out === null ? null : process.stderr,
    // Under GitHub Actions: an annotation at the job of each failed step, and the job summary.
    ...githubOption(out, request.json, { locateStep: stepLocator(plan) }),
  });

  for (const id of killed) events.message("warn", killedNotice(id));
  const interrupt = onInterrupt({
    signal: request.signal,
    // Through the terminal writer, which keeps its progress block below the lines.
    say: out === null ? null : (text, second) => events.emit({ type: "interrupt", second, text: text.trim() }),
    words: {
      first: "stopping the scenario: steps killed, services stopped, hosts discarded",
      second: "still stopping: services stopped and hosts discarded before troupe exits",
    },
  });
  if (asks.length > 0 && !request.yes && !confirm) confirm = terminalConfirm(events, interrupt.soft);
  try {
    const outcome = await runScenario({
      plan,
      runId,
      runDir,
      events,
      signal: interrupt.soft,
      ...(request.backendAs ? { backendAs: request.backendAs } : {}),
      ...(request.cloudGuards ? { cloudGuards: request.cloudGuards } : {}),
      ...(!request.yes && confirm ? { confirm } : {}),
    });
    await reports.finish();
    // A results file that could not be written fails the run, with the reason (said by the hub).
    const unwritten = reports.errors.length > 0 && outcome.exitCode === 0;
    return {
      exitCode: unwritten ? 1 : outcome.exitCode,
      status: outcome.status,
      runId,
      runDir,
      vars: outcome.vars,
      results: toScenarioJson(reports.model),
    };
  } finally {
    await reports.finish();
    interrupt.dispose();
  }
}

/** For the CLI: run, and give the exit status. */
export async function playScenario(request: PlayRequest): Promise<number> {
  return (await play(request)).exitCode;
}

/** Check a scenario object from code against the schema (problems carry paths, not positions). */
function checkDefinition(scenario: ScenarioDefinition): { data: ScenarioData; plugins: PluginJobs } {
  const problems: Problem[] = [];
  // validate() trims what it complains about: give it a copy, not the caller's object.
  const plain = copyPlain(scenario);
  const plugins = takePluginJobs(plain, problems, () => undefined);
  const data = validate(scenarioSchema({ api: true }), plain, { file: "scenario", root: undefined, path: [] }, problems);
  if (problems.length > 0 || !data) {
    throw new TroupeError(
      "E_SCHEMA",
      problems.map((p) => ({ ...(p.path ? { path: p.path } : {}), message: p.message })),
    );
  }
  return { data, plugins };
}

/** A copy of plain objects and arrays; functions and other values are shared. */
function copyPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyPlain);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyPlain(x)]));
  }
  return v;
}

/** Wait for Enter on the terminal, saying so through the event stream. */
function terminalConfirm(events: EventStream, signal: AbortSignal): (stage: string) => Promise<void> {
  return (stage) =>
    new Promise<void>((done) => {
      events.message("info", `Stage "${stage}" asks for confirmation: press Enter to go on (Ctrl-C to stop)`);
      const rl = createInterface({ input: process.stdin });
      const finish = (): void => {
        signal.removeEventListener("abort", finish);
        rl.close();
        done();
      };
      rl.once("line", finish);
      rl.once("close", finish);
      signal.addEventListener("abort", finish, { once: true });
    });
}
