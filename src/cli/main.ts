// The `troupe` command: a thin dispatcher. Each command lives in its own file,
// parses its arguments and calls the library API; errors a user can cause are
// printed without a stack trace and map to documented exit statuses. Command
// files load the API only in their action, so that `troupe --help` or
// `troupe lab status` do not pay for the loader, the engine and the scenario
// templates they never use.

import { Command, CommanderError } from "commander";
import { EXIT, exitCodeFor, formatProblem, isTroupeError } from "../util/errors.js";
import { addListCommand } from "./list.js";
import { addRunCommand } from "./run.js";
import { addSpreadCommand, wantsSpreadHelp } from "./spread.js";
import { translateSpreadArgs } from "./spread-args.js";
import { addSchemaCommand } from "./schema.js";
import { addLabCommand } from "./lab.js";
import { addExecCommand } from "./exec.js";
import { addPlayCommand } from "./play.js";
import { VERSION } from "./version.js";

export function buildProgram(): Command {
  const program = new Command("troupe")
    .description(
      "Run test suites and multi-host scenarios across fleets of machines.\n" +
        "Reads troupe.yaml, or a Spread project (spread.yaml) unchanged.",
    )
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Exit status:
  0    every job passed
  1    a job, hook or stage failed
  2    bad input (project files, flags, filters); nothing ran
  3    machines could not be had or reached (infrastructure, not a test failure)
  130  interrupted (Ctrl-C)

Examples:
  troupe list                      every job of the project in this directory
  troupe list lxd:ubuntu-...       jobs matching a Spread filter
  troupe run -v checks/            run a suite, showing every script's output
  troupe spread -list              Spread's own flags (alias spread='troupe spread')`,
    );
  program.exitOverride();
  addListCommand(program);
  addRunCommand(program);
  addSpreadCommand(program);
  addExecCommand(program);
  addPlayCommand(program);
  addLabCommand(program);
  addSchemaCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    let args = [...argv];
    if (args[0] === "spread" && !wantsSpreadHelp(args.slice(1))) {
      const t = translateSpreadArgs(args.slice(1));
      args = [t.command, ...t.args];
    }
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportError(err);
  }
}

/** Print an error the way users should see it, and choose the exit status. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help/version text).
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") {
      return EXIT.OK;
    }
    return EXIT.USAGE;
  }
  if (isTroupeError(err)) {
    for (const p of err.problems) {
      process.stderr.write(p.pos ? `${formatProblem(p)}\n` : `error: ${formatProblem(p)}\n`);
    }
    return exitCodeFor(err);
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`troupe: internal error (please report it): ${e.stack ?? e.message}\n`);
  return 70;
}
