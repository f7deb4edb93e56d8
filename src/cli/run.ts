// `troupe run [FILTER...]`: run the matrix and report.

import { Option, type Command } from "commander";
import type { RunRequest } from "../api/run.js";
import { TroupeError } from "../util/errors.js";
import { cloudGuardOptions, cloudGuardsOf, type CloudGuardCliOptions } from "./cloud-guards.js";
import { resultsDirOption } from "../runs/option.js";
import { serveOption } from "../serve/option.js";
import {
  addJsonOptions,
  addProjectOption,
  addVerbosityOptions,
  collect,
  colorOption,
  integer,
  jsonTarget,
  parseBackendAs,
  positiveInt,
  verbosityOf,
  workersOption,
  type JsonCliOptions,
  type VerbosityCliOptions,
} from "./common.js";

export interface RunCliOptions extends JsonCliOptions, VerbosityCliOptions, CloudGuardCliOptions {
  readonly project?: string;
  readonly workers?: number;
  readonly seed?: number;
  readonly repeat?: number;
  readonly reuse?: boolean;
  readonly reusePid?: number;
  readonly resend?: boolean;
  readonly discard?: boolean;
  readonly debug?: boolean;
  readonly shell?: boolean;
  readonly shellBefore?: boolean;
  readonly shellAfter?: boolean;
  readonly abend?: boolean;
  readonly restore?: boolean;
  readonly artifacts?: string;
  readonly backendAs?: string[];
  readonly junit?: string;
  readonly color?: boolean;
  readonly pass?: string;
  readonly gc?: boolean;
  readonly failed?: boolean;
  readonly html?: boolean;
  readonly serve?: string | true;
  readonly resultsDir?: string;
}

export function addRunOptions(cmd: Command): Command {
  addProjectOption(cmd);
  const [maxHosts, maxHours] = cloudGuardOptions();
  addVerbosityOptions(cmd, {
    verbose: "-v: also show the output of scripts that pass; -vv: every script's output, live (as Spread)",
    quiet: "show only failures and the summary (no progress lines)",
  });
  addJsonOptions(cmd, "the run's results (run.json) at the end");
  return (
    cmd
      .addOption(workersOption("N hosts per system at once, instead of each system's workers:"))
      .option("--seed <n>", "order jobs with this seed (every run prints its seed)", integer("--seed"))
      .option("--repeat <n>", "run each job N more times", positiveInt("--repeat"))
      .option("--failed", "run only the jobs that failed or were aborted in the last run (of those the filters select)")
      .option("--artifacts <dir>", "fetch each task's artifacts into DIR/<backend>/<system>/<task>[,<variant>]/")
      .option("--backend-as <name=type>", "run backend NAME with another backend type, e.g. lxd=local (repeatable)", collect)
      .option("--junit <file>", "write JUnit XML results to FILE")
      .option("--html", "say where the run's HTML report is (report.html in its results folder, written for every run)")
      .addOption(serveOption())
      .addOption(resultsDirOption())
      .addOption(colorOption())
      .option("--debug", "open a shell on the host where a script fails, in its environment")
      .option("--shell", "open a shell instead of running each task's execute script")
      .option("--shell-before", "open a shell before each task's execute script")
      .option("--shell-after", "open a shell after each task's execute script")
      .option("--abend", "stop at the first failure without running restore scripts")
      .option("--restore", "run only the restore scripts")
      .option("--reuse", "keep the hosts for the next runs, recorded in .troupe-reuse.yaml, and take the ones recorded there")
      .option(
        "--reuse-pid <pid>",
        "take the hosts a killed run PID left (.troupe-reuse.PID.yaml, or Spread's .spread-reuse.PID.yaml)",
        positiveInt("--reuse-pid"),
      )
      .option("--resend", "with --reuse or --reuse-pid: send the project again to reused hosts")
      .option("--discard", "discard the recorded hosts (those the filters select) and run nothing")
      // Spread's -gc: what `troupe gc` does, and nothing else.
      .addOption(new Option("--gc").hideHelp())
      // Spread's -pass: root's password on the machines a backend makes (lxd sets it).
      .addOption(new Option("--pass <password>").hideHelp())
      .addOption(maxHosts)
      .addOption(maxHours)
  );
}

export function addRunCommand(program: Command): void {
  const cmd = program
    .command("run")
    .description("run the jobs of the project (all, or those the filters select)")
    .argument("[filters...]", "Spread filters, as for `troupe list`")
    .addHelpText(
      "after",
      `
Every run prints its seed and keeps its results in .troupe/runs/<run-id>/:
a folder per job with a log per hook, and run.json.

Examples:
  troupe run                         everything, on the backends the project declares
  troupe run -v checks/greet         one task, showing all output
  troupe run --seed 42 --repeat 3    reproduce an order, three more times
  troupe run --failed                the jobs that failed last time, again
  troupe run --backend-as lxd=local  run a Spread project's lxd jobs on this machine
  troupe run --junit results.xml     JUnit XML for CI
  troupe run --json | jq .status     the results as JSON on stdout (the log goes to stderr)
  troupe run --json=results.json     the results as JSON in a file
  troupe run -j 4                    four hosts per system at once
  troupe run --serve                 watch it in a browser, at the URL printed
  troupe run --reuse                 keep the hosts up for the next --reuse run
  troupe run --reuse --resend        reuse them, sending the project again
  troupe run --discard               discard the hosts --reuse kept

Hosts kept with --reuse run the prepare and restore scripts again on each run;
their copy of the project is kept unless --resend. See docs/running.md#reusing-hosts.`,
    );
  addRunOptions(cmd).action(async (filters: string[], opts: RunCliOptions) => {
    if (opts.gc) {
      const { runGc } = await import("./gc.js");
      process.exitCode = await runGc({});
      return;
    }
    const { runProject } = await import("../api/run.js");
    process.exitCode = await runProject(toRunRequest(filters, opts));
  });
}

export function toRunRequest(filters: readonly string[], opts: RunCliOptions): RunRequest {
  if (opts.reusePid === 0) throw new TroupeError("E_USAGE", "--reuse-pid takes the pid of a troupe run, not 0");
  if (opts.resend && !opts.reuse && opts.reusePid === undefined) {
    throw new TroupeError("E_USAGE", "--resend sends the project again to reused hosts: use it with --reuse or --reuse-pid");
  }
  const exclusive = [opts.debug, opts.shell, opts.shellBefore || opts.shellAfter, opts.abend, opts.restore];
  if (exclusive.filter(Boolean).length > 1) {
    throw new TroupeError("E_USAGE", "cannot have more than one of --debug, --shell, --shell-before/after, --abend and --restore");
  }
  const json = jsonTarget(opts, filters);
  return {
    filters,
    ...(opts.failed ? { failedOnly: true } : {}),
    ...(opts.html ? { html: true } : {}),
    ...(opts.serve !== undefined ? { serve: opts.serve } : {}),
    ...(opts.resultsDir ? { resultsDir: opts.resultsDir } : {}),
    ...(opts.project ? { cwd: opts.project } : {}),
    verbosity: verbosityOf(opts),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    repeat: opts.repeat ?? 0,
    ...(opts.artifacts ? { artifactsDir: opts.artifacts } : {}),
    backendAs: parseBackendAs(opts.backendAs),
    ...(opts.junit ? { junit: opts.junit } : {}),
    ...(json !== undefined ? { json } : {}),
    color: opts.color !== false,
    ...(opts.pass !== undefined ? { password: opts.pass } : {}),
    ...cloudGuardsOf(opts),
    ...(opts.reuse || opts.reusePid !== undefined || opts.discard
      ? {
          reuse: {
            keep: !!opts.reuse,
            ...(opts.reusePid !== undefined ? { pid: opts.reusePid } : {}),
            resend: !!opts.resend,
            discard: !!opts.discard,
          },
        }
      : {}),
    modes: {
      debug: !!opts.debug,
      shell: !!opts.shell,
      shellBefore: !!opts.shellBefore,
      shellAfter: !!opts.shellAfter,
      abend: !!opts.abend,
      restore: !!opts.restore,
    },
  };
}
