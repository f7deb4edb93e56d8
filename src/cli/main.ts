// The `troupe` command: a thin dispatcher. Each command lives in its own file,
// parses its arguments and calls the library API; errors a user can cause are
// printed without a stack trace and map to documented exit statuses. Command
// files load the API only in their action, so that `troupe --help` or
// `troupe lab status` do not pay for the loader, the engine and the scenario
// templates they never use.

import { Command, CommanderError } from "commander";
import { EXIT, exitCodeFor, formatProblem, isTroupeError } from "../util/errors.js";
import { VERSION } from "./version.js";
import { normalizeArgs } from "./common.js";
import { redact } from "../secrets/registry.js";

type AddCommand = (program: Command) => void;

/**
 * The commands, in the order `--help` lists them, each loaded only when
 * needed: loading every command's code (zod, nunjucks, the engine, ...) cost
 * 0.4 s before `troupe exec` could start its first connection.
 */
const COMMANDS: readonly (readonly [string, () => Promise<AddCommand>])[] = [
  ["list", async () => (await import("./list.js")).addListCommand],
  ["run", async () => (await import("./run.js")).addRunCommand],
  ["spread", async () => (await import("./spread.js")).addSpreadCommand],
  ["exec", async () => (await import("./exec.js")).addExecCommand],
  ["play", async () => (await import("./play.js")).addPlayCommand],
  ["runs", async () => (await import("./runs.js")).addRunsCommand],
  ["lab", async () => (await import("./lab.js")).addLabCommand],
  ["gc", async () => (await import("./gc.js")).addGcCommand],
  ["sync", async () => (await import("./sync.js")).addSyncCommand],
  ["image", async () => (await import("./image.js")).addImageCommand],
  ["schema", async () => (await import("./schema.js")).addSchemaCommand],
];

/** The program with every command, or with `only` when it names one (what `troupe ONLY ...` needs). */
export async function buildProgram(only?: string): Promise<Command> {
  const wanted = COMMANDS.some(([name]) => name === only) ? COMMANDS.filter(([name]) => name === only) : COMMANDS;
  const adders = await Promise.all(wanted.map(([, load]) => load()));
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
  130  interrupted (Ctrl-C; troupe exec: 143 on SIGTERM, 129 on SIGHUP)

Flags mean the same in every command (docs/running.md#flags):
  --json          print the results as JSON on stdout (other output goes to stderr)
  --json=FILE     write them to FILE instead (the = is required)
  --junit FILE    write JUnit XML to FILE
  -q / -v / -vv   only failures and the result / also what passed / everything, live
  --no-color      no colors (also NO_COLOR=1; FORCE_COLOR=1 forces them)
  -j, --workers N N at once (hosts per system for run; at most N commands for exec)

Examples:
  troupe list                      every job of the project in this directory
  troupe list lxd:ubuntu-...       jobs matching a Spread filter
  troupe run -v checks/            run a suite, showing every script's output
  troupe spread -list              Spread's own flags (alias spread='troupe spread')`,
    );
  program.exitOverride();
  for (const add of adders) add(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    let args = [...argv];
    if (args[0] === "spread") {
      // Loaded only for `troupe spread`: every other command starts without Spread's flags.
      const [{ wantsSpreadHelp }, { translateSpreadArgs }] = await Promise.all([import("./spread.js"), import("./spread-args.js")]);
      if (!wantsSpreadHelp(args.slice(1))) {
        const t = translateSpreadArgs(args.slice(1));
        args = [t.command, ...t.args];
      }
    }
    args = normalizeArgs(args);
    if (args.includes("--serve")) args = (await import("../serve/option.js")).separateServeValue(args);
    const program = await buildProgram(args[0]);
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
      process.stderr.write(redact(p.pos ? `${formatProblem(p)}\n` : `error: ${formatProblem(p)}\n`));
    }
    return exitCodeFor(err);
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(redact(`troupe: internal error (please report it): ${e.stack ?? e.message}\n`));
  return 70;
}
