// `troupe list [FILTER...]`: the jobs that `troupe run` would run.

import type { Command } from "commander";
import { addProjectOption } from "./common.js";
import { redact } from "../secrets/registry.js";

interface ListOptions {
  readonly project?: string;
  readonly json?: boolean;
}

export function addListCommand(program: Command): void {
  const cmd = program
    .command("list")
    .description("print the jobs that would run, one per line: backend:system:suite/task[:variant]")
    .argument("[filters...]", "Spread filters: lxd, lxd:mysuite/, ubuntu-..., /task-one, mysu...one")
    .option("--json", "print the whole plan as JSON: environment, scripts per hook level, timeouts, priority")
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
  troupe list checks/ --json | jq '.[0].environment'`,
    );
  addProjectOption(cmd);
  cmd.action(async (filters: string[], opts: ListOptions) => {
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
    if (opts.json) {
      process.stdout.write(redact(JSON.stringify(jobs.map(jobToJSON), null, 2)) + "\n");
    } else {
      process.stdout.write(jobs.map((j) => j.name + "\n").join(""));
    }
  });
}
