// `troupe spread [spread flags...] [FILTER...]`: Spread's command line, so
// that `alias spread='troupe spread'` keeps every script and habit working.
// main() translates the arguments (spread-args.ts) before commander sees
// them, since Go-style single-dash flags are not POSIX options; this command
// exists for `troupe --help` and `troupe spread --help`.

import type { Command } from "commander";

export function addSpreadCommand(program: Command): void {
  program
    .command("spread")
    .description("run or list with Spread's own flags (-list, -v, -vv, -reuse, -artifacts=DIR, -seed=N, ...)")
    .argument("[args...]", "Spread flags and filters; troupe's long options (--backend-as, --junit, ...) too")
    .addHelpText(
      "after",
      `
Spread's flags: -v -vv -list -pass -reuse -reuse-pid -resend -debug -shell
-shell-before -shell-after -abend -restore -discard -artifacts -seed -repeat -gc
They mean what they mean in Spread; see \`troupe run --help\` for each.

Examples:
  alias spread='troupe spread'
  spread -list
  spread -v -artifacts=./artifacts lxd:ubuntu-16.04:
  spread --backend-as lxd=local -seed=7`,
    );
}

/** Whether `troupe spread ARGS` asks for help rather than a run. */
export function wantsSpreadHelp(args: readonly string[]): boolean {
  return args.some((a) => a === "-h" || a === "-help" || a === "--help");
}
