// `troupe gc`: remove the machines, containers and leftovers of troupe runs
// that are gone, on every backend type that makes them.

import type { Command } from "commander";
import { TroupeError } from "../util/errors.js";

export function addGcCommand(program: Command): void {
  program
    .command("gc")
    .description("remove what killed troupe runs left behind (lab hosts, containers, VMs), and only that")
    .option("--dry-run", "say what would be removed, remove nothing")
    .option("--type <types>", "only these backend types, comma-separated (e.g. docker,lxd)")
    .option("--all", "also what troupe processes that are still running hold")
    .addHelpText(
      "after",
      `
Everything troupe makes is labelled with the run and the troupe process that
made it. gc removes a thing only when that process is gone (or this machine
rebooted since), or its halt time has passed; a run that is still going
keeps its machines unless --all is given. Backends whose engine is not
running are skipped with a note. Run in a project, gc also removes the
reuse journals (.troupe-reuse.PID.yaml and its lock) of killed runs whose
hosts it has collected.

Exit status: 0 when everything found was removed (or --dry-run), 1 when
something could not be removed.

Examples:
  troupe gc --dry-run           what would go
  troupe gc                     remove it
  troupe gc --type docker       containers only`,
    )
    .action(async (opts: GcCliOptions) => {
      process.exitCode = await runGc(opts);
    });
}

export interface GcCliOptions {
  readonly dryRun?: boolean;
  readonly type?: string;
  readonly all?: boolean;
}

/** Collect, say what went, and give the exit status (also for Spread's `-gc`). */
export async function runGc(opts: GcCliOptions): Promise<number> {
  const [{ collectGarbage }, { collectorTypes, loadCollectors }] = await Promise.all([
    import("../gc/collect.js"),
    import("../gc/registry.js"),
  ]);
  const known = collectorTypes();
  const types = opts.type ? opts.type.split(",").map((t) => t.trim()) : known;
  const unknown = types.filter((t) => !known.includes(t));
  if (unknown.length) {
    throw new TroupeError("E_USAGE", `--type: gc knows no backend type ${unknown.join(", ")} (it knows: ${known.join(", ")})`);
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const r = await collectGarbage(await loadCollectors(types), {
    say,
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(opts.all ? { all: true } : {}),
  });
  for (const u of r.unavailable) say(`skipped ${u.type}: ${u.why}`);
  // The journals of killed runs in this project, whose hosts gc has just collected.
  const unclean = new Set([...r.unavailable.map((u) => u.type), ...r.failed.map((f) => f.leftover.type)]);
  const { sweepProjectJournals } = await import("../backends/reuse/journals.js");
  for (const line of await sweepProjectJournals(process.cwd(), new Set(types.filter((t) => !unclean.has(t))), !!opts.dryRun)) say(line);
  if (!r.found.length) say("Nothing to remove.");
  else if (opts.dryRun) say(`Would remove ${r.found.length}.`);
  else say(`Removed ${r.removed.length}${r.failed.length ? `, could not remove ${r.failed.length}` : ""}.`);
  return r.failed.length ? 1 : 0;
}
