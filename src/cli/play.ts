// `troupe play SCENARIO`: run a scenario (YAML or JSON) across a fleet.

import type { Command } from "commander";
import type { Value } from "../scenario/types.js";
import { TroupeError } from "../util/errors.js";
import { cloudGuardOptions, cloudGuardsOf, type CloudGuardCliOptions } from "./cloud-guards.js";
import { resultsDirOption } from "../runs/option.js";
import { serveOption } from "../serve/option.js";
import {
  addJsonOptions,
  addVerbosityOptions,
  collect,
  colorOption,
  jsonTarget,
  parseBackendAs,
  refuseOptions,
  verbosityOf,
  type JsonCliOptions,
  type VerbosityCliOptions,
} from "./common.js";

interface PlayCliOptions extends JsonCliOptions, VerbosityCliOptions, CloudGuardCliOptions {
  readonly yes?: boolean;
  readonly var?: string[];
  readonly backendAs?: string[];
  readonly color?: boolean;
  readonly check?: boolean;
  readonly junit?: string;
  readonly html?: boolean;
  readonly serve?: string | true;
  readonly resultsDir?: string;
}

export function addPlayCommand(program: Command): void {
  const cmd = program
    .command("play")
    .description("run a scenario: stages of jobs on hosts from any backend (Octogram style)")
    .argument("<scenario>", "the scenario file, YAML or JSON")
    .option("-y, --yes", "go on at ask_confirmation stages without asking (needed when stdin is not a terminal)");
  addVerbosityOptions(cmd, {
    quiet: "show only stages, failures and the result (no live output); everything is still in the logs",
    verbose: "also show debug messages (-vv: the same; steps' output is shown live by default)",
  });
  addJsonOptions(cmd, "the results (scenario.json) at the end");
  refuseOptions(cmd, [{ flags: "-j, --workers <n>", why: "the scenario says what runs at once (run_hosts:, run_jobs:)" }]);
  cmd
    .option(
      "--var <key=value>",
      "set a variable before the first stage, over the scenario's vars: (repeatable); the value is read as JSON when it is JSON",
      collect,
    )
    .option("--junit <file>", "write JUnit XML results to FILE: a test case per stage, job, host and item")
    .option("--html", "say where the HTML report is (report.html in its results folder, written for every scenario)")
    .addOption(serveOption())
    .addOption(resultsDirOption())
    .option("--backend-as <name=type>", "run backend NAME with another backend type, e.g. lab=local (repeatable)", collect)
    .option("--check", "check the scenario and show its hosts and stages; allocate nothing, run nothing")
    .addOption(cloudGuardOptions()[0])
    .addOption(cloudGuardOptions()[1])
    .addOption(colorOption())
    .addHelpText(
      "after",
      `
A scenario names hosts (from any backend: local, lab, ssh, adhoc), global
variables, and stages run in order. A stage picks hosts by regular expressions
over their names (captures are {{ re[1] }}, ...), runs them at once (or one
after the other with run_hosts: sequential); each host runs the stage's jobs
one after the other (or at once with run_jobs: concurrent). A job is one of:

  run: SCRIPT           a shell script on the host (set -eu; troupe-ctl on PATH)
  copy: {from, to}      files: orchestrator -> host, host -> orchestrator, host -> host
  service: COMMAND      a long-running process with an endpoint:, stopped at the end

  tezos.start_node: ...  a plugin's job kind (builtins.*, tezos.*: Octogram's jobs)

with with_items (lists, ranges "5..9", {product: [...]}) and run_items,
vars_updates (from res.stdout, res.status, res.json), ignore_failure, env,
timeout. Templates are Jinja2: {{ vars.x }}, {{ vars.n | int + 1 }}, {{ host.name }}, {{ host.addr }},
{{ item }}, {{ re[1] | next }}. In any value, HOST://SERVICE is that service's
endpoint and HOST://path a file on that host.

Octogram's recipes (agents:, with_agents:, copy: {local_path, remote_path},
builtins.* and tezos.* jobs) run as they are: each agent is an SSH host of
the backend "agents" (--backend-as agents=local runs them here).

With a prometheus: section, troupe runs its own Prometheus on this machine
(apt-get install prometheus), or with on: HOST on that host (Octogram's
prometheus_agent), scraping every service with metrics: PATH; later stages
query it at {{ prometheus.url }}; its data ends in the run's prometheus/
folder. See docs/prometheus.md.

Results go to .troupe/runs/<run-id>/ next to the scenario file: scenario.json
a log per host in logs/ and report.html. Hosts are discarded at the end, also on failure
and Ctrl-C. See docs/scenarios.md for the whole schema.

Exit status: 0 every step passed; 1 a step failed (the result names the stage,
job, host and item); 2 the scenario is wrong (nothing ran); 3 hosts could not
be had; 130 interrupted.

Examples:
  troupe play examples/scenarios/chain.yaml
  troupe play --check scenario.yaml
  troupe play -q --var rounds=10 --json=out.json scenario.yaml
  troupe play --json scenario.yaml | jq .status       the results on stdout, the log on stderr
  troupe play --junit results.xml --serve scenario.yaml   JUnit for CI; watch it live
  troupe play --backend-as lab=local scenario.yaml   run a lab scenario as local processes
  troupe play --backend-as cloud=docker examples/tezt-cloud/scenario.yaml
                                                     a cloud scenario's hosts as local containers of their image`,
    )
    .action(async (file: string, opts: PlayCliOptions) => {
      const level = verbosityOf(opts);
      const json = jsonTarget(opts);
      const vars = parseVars(opts.var);
      // Loaded here: the scenario engine (and its template library) only when a scenario runs.
      const [{ checkScenario, playScenario }, { describePlan }] = await Promise.all([
        import("../api/scenario.js"),
        import("../scenario/describe.js"),
      ]);
      if (opts.check) {
        const plan = await checkScenario({ file, vars });
        process.stdout.write(describePlan(plan));
        return;
      }
      process.exitCode = await playScenario({
        file,
        vars,
        yes: !!opts.yes,
        verbosity: level < 0 ? 0 : level > 0 ? 2 : 1,
        color: opts.color !== false,
        ...(json !== undefined ? { json } : {}),
        ...(opts.junit ? { junit: opts.junit } : {}),
        ...(opts.html ? { html: true } : {}),
        ...(opts.serve !== undefined ? { serve: opts.serve } : {}),
        ...(opts.resultsDir ? { resultsDir: opts.resultsDir } : {}),
        backendAs: parseBackendAs(opts.backendAs),
        ...cloudGuardsOf(opts),
      });
    });
}

/** `--var key=value`: JSON when it parses (`3`, `true`, `[1,2]`), text otherwise. */
export function parseVars(values: readonly string[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const v of values ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(v);
    if (!m) throw new TroupeError("E_USAGE", `--var takes KEY=VALUE (for example port=8000), not "${v}"`);
    let value: Value;
    try {
      value = JSON.parse(m[2]!) as Value;
    } catch {
      value = m[2]!;
    }
    out[m[1]!] = value;
  }
  return out;
}
