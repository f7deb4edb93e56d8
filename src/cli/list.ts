// `troupe list [FILTER...]`: the jobs that `troupe run` would run.

import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { TroupeError } from "../util/errors.js";
import { addJsonOptions, addProjectOption, colorOption, jsonTarget, refuseOptions, type JsonCliOptions } from "./common.js";
import { redact } from "../secrets/registry.js";

interface ListOptions extends JsonCliOptions {
  readonly project?: string;
}

export function addListCommand(program: Command): void {
  const cmd = program
    .command("list")
    .description("print the jobs that would run, one per line: backend:system:suite/task[:variant]")
    .argument("[filters...]", "Spread filters: lxd, lxd:mysuite/, ubuntu-..., /task-one, mysu...one")
    .addOption(colorOption())
    .addHelpText(
      "after",
      `
Filters select jobs by name components, as in Spread: a component is matched
whole ("lxd", "ubuntu-16.04", "variant-a"), "..." is a wildcard inside a
component ("ubuntu-..."), a task is matched partially when the filter starts or
ends with a slash ("/task-one", "mysuite/"), and several components separated
by colons must all match, in order ("lxd:ubuntu-16.04:variant-a").

Examples:
  troupe list
  troupe list checks/ --json | jq '.[0].environment'
  troupe list --json=plan.json`,
    );
  addJsonOptions(cmd, "the whole plan (environment, scripts per hook level, timeouts, priority)");
  refuseOptions(cmd, [
    { flags: "-v, --verbose", why: "it runs no script (use --json for the whole plan)" },
    { flags: "-q, --quiet", why: "it prints only job names already" },
    { flags: "-j, --workers <n>", why: "it runs nothing" },
    { flags: "--junit <file>", why: "it runs nothing; `troupe run --junit FILE` writes results" },
  ]);
  addProjectOption(cmd);
  cmd.action(async (filters: string[], opts: ListOptions) => {
    const json = jsonTarget(opts, filters);
    const [{ openProject, plan }, { jobToJSON }, { onInterrupt }] = await Promise.all([
      import("../api/project.js"),
      import("../plan/index.js"),
      import("../api/interrupt.js"),
    ]);
    // Ctrl-C, SIGTERM or SIGHUP while a `$(HOST:cmd)` runs: it is killed, and troupe exits 130.
    const interrupt = onInterrupt({ words: { first: "stopping", second: "stopping" } });
    let jobs;
    try {
      const project = await openProject(opts.project ? { cwd: opts.project } : {});
      jobs = await plan(project, { filters, signal: interrupt.soft });
    } finally {
      interrupt.dispose();
    }
    if (json === "-") {
      process.stdout.write(redact(JSON.stringify(jobs.map(jobToJSON), null, 2)) + "\n");
    } else if (json !== undefined) {
      await writeFile(json, redact(JSON.stringify(jobs.map(jobToJSON), null, 2)) + "\n").catch((err: unknown) => {
        throw new TroupeError("E_USAGE", `cannot write --json=${json}: ${(err as Error).message}`);
      });
    } else {
      process.stdout.write(jobs.map((j) => j.name + "\n").join(""));
    }
  });
}
