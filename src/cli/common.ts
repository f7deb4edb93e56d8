// Options shared by several commands.

import { Option, type Command } from "commander";
import { TroupeError } from "../util/errors.js";

export function addProjectOption(cmd: Command): Command {
  return cmd.option("-C, --project <dir>", "the project directory (default: search upwards from here)");
}

/** Collect a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new TroupeError("E_USAGE", `${name} must be a whole number, not "${value}"`);
    return n;
  };
}

export function integer(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new TroupeError("E_USAGE", `${name} must be an integer, not "${value}"`);
    return n;
  };
}

/** `--backend-as NAME=TYPE`, repeatable, into a map. */
export function parseBackendAs(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const m = /^([^=\s]+)=([a-z][a-z0-9-]*)$/.exec(v);
    if (!m) {
      throw new TroupeError("E_USAGE", `--backend-as takes NAME=TYPE (for example lxd=local), not "${v}"`);
    }
    out[m[1]!] = m[2]!;
  }
  return out;
}

export function colorOption(): Option {
  return new Option("--no-color", "plain output without colors (also: NO_COLOR=1)");
}

// --- One meaning for each flag (docs/running.md#flags) ---
//
// | flag            | meaning, wherever it is accepted                                   |
// | --------------- | ------------------------------------------------------------------ |
// | --json          | print the results as JSON on stdout (other output goes to stderr)  |
// | --json=FILE     | write that JSON to FILE (the `=` is required: `--json X` never     |
// |                 | takes X as a file, X stays a filter or an argument)                |
// | --junit FILE    | write JUnit XML to FILE (always a file: JUnit is for CI tools)     |
// | -q              | only failures and the result                                       |
// | -v              | also the output of what passed                                     |
// | -vv             | everything, live, with debug messages                              |
// | --no-color      | no colors (also NO_COLOR=1; FORCE_COLOR=1 colors even off a tty)   |
// | -j, --workers N | N at once (hosts per system for run; commands for exec, at most)   |
//
// A command refuses a flag that would mean nothing for it (list runs nothing:
// no -v, -q, -j) with an E_USAGE error that says which commands take it.

/** The hidden option `--json=FILE` becomes (see normalizeArgs). */
const JSON_FILE_OPTION = "--json-file";

/**
 * Rewrite the arguments so that commander can read them: `--json=FILE`
 * becomes the hidden `--json-file FILE`, and `--json` alone stays a flag
 * (commander would otherwise take the next argument as its value).
 */
export function normalizeArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (a.startsWith("--json=")) {
      const file = a.slice("--json=".length);
      if (file === "") throw new TroupeError("E_USAGE", "--json= needs a file name: --json=results.json (or --json alone to print)");
      out.push(JSON_FILE_OPTION, file);
    } else out.push(a);
  }
  return out;
}

/** `--json` (print) and `--json=FILE` (write), `what` being what the JSON holds. */
export function addJsonOptions(cmd: Command, what: string): Command {
  return cmd
    .option("--json", `print ${what} as JSON on stdout; --json=FILE writes it to FILE instead`)
    .addOption(new Option(`${JSON_FILE_OPTION} <file>`).hideHelp());
}

export interface JsonCliOptions {
  readonly json?: boolean;
  readonly jsonFile?: string;
}

/** Where the JSON goes: "-" for stdout, a file, or nowhere. */
export function jsonTarget(opts: JsonCliOptions, args: readonly string[] = []): string | undefined {
  if (opts.json && opts.jsonFile !== undefined) throw new TroupeError("E_USAGE", "give --json (print) or --json=FILE (write), not both");
  if (opts.jsonFile !== undefined) return opts.jsonFile;
  if (!opts.json) return undefined;
  // `--json out.json`: the old spelling wrote out.json; now out.json is an argument. Say so rather than guess.
  const file = args.find((a) => /\.json$/i.test(a));
  if (file) {
    throw new TroupeError("E_USAGE", `--json prints to stdout and "${file}" is read as an argument; to write a file, write --json=${file}`);
  }
  return "-";
}

/** -1 quiet (-q), 0 default, 1 (-v), 2 (-vv). */
export type CliVerbosity = -1 | 0 | 1 | 2;

export function addVerbosityOptions(cmd: Command, help: { quiet: string; verbose: string }): Command {
  return cmd.option("-v, --verbose", help.verbose, (_: string, previous: number) => previous + 1, 0).option("-q, --quiet", help.quiet);
}

export interface VerbosityCliOptions {
  readonly verbose?: number;
  readonly quiet?: boolean;
}

export function verbosityOf(opts: VerbosityCliOptions): CliVerbosity {
  const v = opts.verbose ?? 0;
  if (opts.quiet && v > 0) throw new TroupeError("E_USAGE", "-q (--quiet) and -v (--verbose) cannot go together");
  if (opts.quiet) return -1;
  return Math.min(v, 2) as CliVerbosity;
}

export function workersOption(help: string): Option {
  return new Option("-j, --workers <n>", help).argParser(positiveWhole("--workers"));
}

function positiveWhole(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new TroupeError("E_USAGE", `${name} must be a whole number of 1 or more, not "${value}"`);
    return n;
  };
}

/** `-j, --workers <n>` as errors name it: `-j (--workers)`. */
function flagName(flags: string): string {
  const [first = "", second] = flags.replace(/\s*<[^>]*>/, "").split(/,\s*/);
  return second ? `${first} (${second})` : first;
}

/** Flags that `cmd` refuses because they mean nothing for it, each with the error it gives. */
export function refuseOptions(cmd: Command, flags: readonly { flags: string; why: string }[]): Command {
  for (const f of flags) {
    const opt = new Option(f.flags).hideHelp();
    cmd.addOption(opt);
    cmd.on(`option:${opt.name()}`, () => {
      throw new TroupeError("E_USAGE", `${flagName(f.flags)} means nothing for \`troupe ${cmd.name()}\`: ${f.why}`);
    });
  }
  return cmd;
}
