// `troupe runs`: the runs kept in the results folder: list them, show one
// (its summary and failures, or its report in a browser), prune old ones.

import { Option, type Command } from "commander";
import { join } from "node:path";
import { TroupeError } from "../util/errors.js";
import { addProjectOption, positiveInt } from "./common.js";

interface WhereOptions {
  readonly project?: string;
  readonly resultsDir?: string;
  readonly json?: boolean;
}

function addWhere(cmd: Command): Command {
  addProjectOption(cmd);
  return cmd
    .option("--results-dir <dir>", "the folder that holds the runs (default: .troupe/runs of the project, searched upwards from here)")
    .option("--json", "print JSON instead of text");
}

async function runsOf(o: WhereOptions) {
  const [{ findRunsDir }, { readRuns }, { markKilled }] = await Promise.all([
    import("../runs/where.js"),
    import("../runs/records.js"),
    import("../runs/killed.js"),
  ]);
  const dir = findRunsDir({ ...(o.resultsDir ? { resultsDir: o.resultsDir } : {}), ...(o.project ? { from: o.project } : {}) });
  const runs = await readRuns(dir);
  // Runs killed outright still say `running` in their files: now they say `killed`.
  await markKilled(runs);
  return { dir, runs };
}

function json(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** A record without the whole results file, for --json lists. */
function brief(r: Awaited<ReturnType<typeof runsOf>>["runs"][number]) {
  const { run: _run, scenario: _scenario, ...rest } = r;
  return rest;
}

export function addRunsCommand(program: Command): void {
  const runs = program
    .command("runs")
    .description("list the runs kept in .troupe/runs, show one, prune old ones")
    .addHelpText(
      "after",
      `
Every troupe run and troupe play keeps its results in .troupe/runs/<run-id>/
(run.json or scenario.json, report.html, logs); .troupe/latest is the newest.
A run whose process was killed (kill -9, a crash) is marked "killed".

Examples:
  troupe runs                          every run: id, start, status, results, duration
  troupe runs show                     the newest run's summary and failures
  troupe runs show 20261207-1730 --open   a run's report in the browser ($BROWSER or xdg-open)
  troupe runs prune --keep 20          remove all but the 20 newest runs
  troupe runs prune --older-than 7d    remove the runs started more than 7 days ago`,
    );

  addWhere(runs.command("list", { isDefault: true }).description("list the runs, oldest first")).action(async (o: WhereOptions) => {
    const { runs: all } = await runsOf(o);
    if (o.json) return json(all.map(brief));
    const { runsTable } = await import("../runs/show.js");
    process.stdout.write(runsTable(all));
  });

  addWhere(
    runs
      .command("show")
      .description("a run's summary and its failures, with the end of their output and their logs")
      .argument("[id]", "a run id, or its unique beginning, or latest", "latest")
      .option("--open", "open its HTML report in the browser ($BROWSER, else xdg-open; else say where it is)"),
  ).action(async (id: string, o: WhereOptions & { open?: boolean }) => {
    const { dir, runs: all } = await runsOf(o);
    const run = pick(all, id, dir);
    if (o.open) {
      if (!run.report)
        throw new TroupeError("E_NOT_FOUND", `run ${run.id} has no report.html (it did not end); troupe runs show ${run.id} sums it up`);
      const { openInBrowser } = await import("../runs/open.js");
      process.stdout.write((await openInBrowser(join(run.dir, "report.html"))) + "\n");
      return;
    }
    if (o.json) return json(run.run ?? run.scenario ?? brief(run));
    const { runSummary } = await import("../runs/show.js");
    process.stdout.write(runSummary(run, process.cwd()));
  });

  addWhere(
    runs
      .command("prune")
      .description("remove old runs (never one that is still going)")
      .option("--keep <n>", "keep the N newest runs", positiveInt("--keep"))
      .addOption(new Option("--older-than <age>", "remove runs started longer ago than AGE: 7d, 12h, 1d12h, 90m"))
      .option("--dry-run", "say what would be removed, remove nothing"),
  ).action(async (o: WhereOptions & { keep?: number; olderThan?: string; dryRun?: boolean }) => {
    if ((o.keep === undefined) === (o.olderThan === undefined)) {
      throw new TroupeError("E_USAGE", "troupe runs prune takes one of --keep N and --older-than AGE");
    }
    const { planPrune, parseAge, removeRuns } = await import("../runs/prune.js");
    const { dir, runs: all } = await runsOf(o);
    const plan = planPrune(all, o.keep !== undefined ? { keep: o.keep } : { olderThanMs: parseAge(o.olderThan!) }, Date.now());
    if (!o.dryRun) {
      const gone = new Set(plan.remove.map((r) => r.id));
      await removeRuns(
        dir,
        plan.remove,
        all.filter((r) => !gone.has(r.id)),
      );
    }
    if (o.json) return json({ removed: plan.remove.map((r) => r.id), running: plan.running.map((r) => r.id), dryRun: !!o.dryRun });
    for (const r of plan.remove) process.stdout.write(`${o.dryRun ? "would remove" : "removed"} ${r.id} (${r.status})\n`);
    for (const r of plan.running) process.stdout.write(`kept ${r.id}: it is still running\n`);
    const left = all.length - plan.remove.length;
    process.stdout.write(`${plan.remove.length} run(s) ${o.dryRun ? "would be removed" : "removed"}, ${left} left\n`);
  });
}

function pick<T extends { id: string }>(runs: readonly T[], id: string, dir: string): T {
  if (!runs.length) throw new TroupeError("E_NOT_FOUND", `no runs in ${dir} yet`);
  if (id === "latest") return runs[runs.length - 1]!;
  const exact = runs.find((r) => r.id === id);
  if (exact) return exact;
  const matching = runs.filter((r) => r.id.startsWith(id));
  if (matching.length === 1) return matching[0]!;
  if (matching.length > 1)
    throw new TroupeError(
      "E_USAGE",
      `"${id}" is the beginning of ${matching.length} runs: ${matching.map((r) => r.id).join(", ")}; give more of it`,
    );
  throw new TroupeError("E_NOT_FOUND", `no run ${id} in ${dir} (troupe runs lists them)`);
}
