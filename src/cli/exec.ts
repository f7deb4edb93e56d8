// `troupe exec HOSTS -- CMD...`: one command on many hosts, pdsh/clush style.

import { writeFile } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import type { Command } from "commander";
import type { HostOutcome } from "../api/fanout.js";
import { serveOption } from "../serve/option.js";
import { foldHostlist } from "../util/hostlist.js";
import { EXIT, TroupeError } from "../util/errors.js";
import {
  addJsonOptions,
  addVerbosityOptions,
  collect,
  colorOption,
  jsonTarget,
  positiveInt,
  verbosityOf,
  workersOption,
  type JsonCliOptions,
  type VerbosityCliOptions,
} from "./common.js";

interface ExecCliOptions extends JsonCliOptions, VerbosityCliOptions {
  readonly inventory?: string;
  readonly user?: string;
  readonly collate?: boolean;
  readonly fanout?: number;
  readonly workers?: number;
  readonly sshOption?: string[];
  readonly timeout?: string;
  readonly outputDir?: string;
  readonly prefix?: boolean;
  readonly junit?: string;
  readonly color?: boolean;
  readonly serve?: string | true;
}

export function addExecCommand(program: Command): void {
  const cmd = program
    .command("exec")
    .description("run one command on many hosts at once; output prefixed by host, or collated")
    .argument(
      "<hosts>",
      "a hostlist (root@node[01-64]:22,web1), an inventory group (with -i), lab / lab:NAME, or docker:NAME,... / docker:label=K=V",
    )
    .argument("<command...>", "the command, after --; run by /bin/sh on each host")
    .option("-i, --inventory <file>", "an Ansible inventory (INI or YAML); HOSTS names a group or pattern")
    .option("-l, --user <user>", "login user where HOSTS and the inventory don't say")
    .option("-b, --collate", "group hosts with identical output (like clush -b, dshbak -c)")
    .option("-N, --no-prefix", "print each line as the host printed it, without `host: ` (like pdsh -N)")
    .option("--timeout <duration>", "kill the command on a host that runs longer (30s, 5m, 1h30m); that host's status is 124")
    .option("--output-dir <dir>", "also write every byte each host prints to DIR/<host>.log")
    .addOption(workersOption("commands running at once (default 256; -f, --fanout is the same)"))
    .option("-f, --fanout <n>", "commands running at once, as pdsh -f (default 256)", positiveInt("--fanout"))
    .option("-o, --ssh-option <key=value>", "an ssh option, e.g. ProxyJump=bastion (repeatable)", collect);
  addVerbosityOptions(cmd, {
    quiet: "print no output, only which hosts failed",
    verbose: "also a line per host as it finishes: its exit status and how long it took",
  });
  addJsonOptions(cmd, "one result per host (host, exit, signal, timedOut, durationMs, the end of its output)");
  cmd
    .option("--junit <file>", "write JUnit XML to FILE: a test case per host")
    .addOption(serveOption())
    .addOption(colorOption())
    .addHelpText(
      "after",
      `
Exit status: the highest exit status of any host: 255 when a host could not
be reached, 124 when its command ran past --timeout (as timeout(1) says), so
a script can tell that something failed anywhere. Ctrl-C kills the command on
every host and exits 130; SIGTERM exits 143 and SIGHUP 129, after the same
cleanup.

What hosts print is shown with its control characters spelled out (ESC as
^[): a host cannot move the cursor, set the title or the clipboard of your
terminal. --output-dir files and --json have the bytes as they came.

Each host gets a connection of its own for the command, as with pdsh (no
ControlMaster to open and close): an ssh process per host, or for lab hosts
a connection held by troupe itself (TROUPE_LAB_SSH=openssh: ssh there too).
TROUPE_SSH_HANDSHAKES (default 32) bounds how many are being set up at once,
-j (--fanout) how many commands run at once.

Examples:
  troupe exec 'root@node[01-04]' -- uptime
  troupe exec -i hosts.ini webservers -- systemctl is-active nginx
  troupe lab up 4 && troupe exec lab --collate -- cat /etc/debian_version
  troupe exec -N lab -- cat /etc/hostname | sort      the lines alone
  troupe exec --timeout 30s --output-dir logs lab -- ./long-check
  troupe exec --json lab -- uptime | jq -r '.[] | select(.exit != 0) | .host'
  troupe exec --serve lab -- ./long-check            watch each host live in a browser`,
    )
    .action(async (hosts: string, command: string[], opts: ExecCliOptions) => {
      process.exitCode = await runExec(hosts, command, opts);
    });
}

async function runExec(hosts: string, command: string[], opts: ExecCliOptions): Promise<number> {
  if (command.length === 0) throw new TroupeError("E_USAGE", "no command given; write `troupe exec HOSTS -- CMD...`");
  const level = verbosityOf(opts);
  const json = jsonTarget(opts);
  if (opts.fanout !== undefined && opts.workers !== undefined && opts.fanout !== opts.workers) {
    throw new TroupeError("E_USAGE", "-j (--workers) and -f (--fanout) are the same; give one");
  }
  if (opts.collate && json === "-") throw new TroupeError("E_USAGE", "--collate prints the output grouped; --json prints JSON: give one");
  const sshOptions: Record<string, string> = {};
  for (const o of opts.sshOption ?? []) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(o);
    if (!m) throw new TroupeError("E_USAGE", `--ssh-option takes Key=Value, e.g. ProxyJump=bastion, not "${o}"`);
    sshOptions[m[1]!] = m[2]!;
  }
  const [{ collate, openFleet }, { onInterrupt }, { parseDuration, DURATION_HELP }, out, { shouldColor }] = await Promise.all([
    import("../api/fanout.js"),
    import("../api/interrupt.js"),
    import("../config/duration.js"),
    import("./exec-output.js"),
    import("../report/colors.js"),
  ]);
  let timeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    const ms = parseDuration(opts.timeout);
    if (ms === undefined || ms <= 0)
      throw new TroupeError("E_USAGE", `--timeout "${opts.timeout}": ${DURATION_HELP.replace(/; 0 .*$/, "")}`);
    timeoutMs = ms;
  }
  const files = opts.outputDir ? new out.HostFiles(opts.outputDir) : undefined;
  // Ctrl-C, SIGTERM and SIGHUP alike: the command is killed on every host, connections closed.
  const interrupt = onInterrupt({
    words: { first: "killing the command on every host", second: "still killing the command on every host" },
  });
  try {
    const fleet = await openFleet(hosts, {
      // One command per host: a connection each, no master to open and close.
      oneShot: true,
      ...(opts.inventory ? { inventory: opts.inventory } : {}),
      ...(opts.user ? { user: opts.user } : {}),
      ...(Object.keys(sshOptions).length ? { sshOptions } : {}),
    });
    try {
      // Live lines only when they are what stdout is for: not with --json, --collate or -q.
      const live =
        json === "-" || opts.collate || level < 0
          ? undefined
          : out.liveLines({
              prefix: opts.prefix !== false,
              color: shouldColor({ tty: !!process.stdout.isTTY, noColorFlag: opts.color === false }),
              hosts: fleet.targets.map((t) => t.name),
            });
      const fanout = opts.workers ?? opts.fanout;
      // --serve: the page of `troupe run`, a job per host (exec-live.ts).
      const served =
        opts.serve === undefined
          ? undefined
          : await (
              await import("./exec-live.js")
            ).ExecLive.start(
              opts.serve,
              fleet.targets.map((t) => t.name),
              json === "-" ? process.stderr : process.stdout,
              Math.min(fanout ?? 256, fleet.targets.length),
            );
      let results: HostOutcome[] = [];
      try {
        results = await fleet.exec(command.join(" "), {
          ...(fanout ? { fanout } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...(json !== undefined || opts.junit ? { keepOutput: out.OUTPUT_TAIL } : {}),
          signal: interrupt.soft,
          ...(live || files || served
            ? {
                onLine: (host: string, line: string, stream: "stdout" | "stderr", partial: boolean) => {
                  live?.(host, line, stream, partial);
                  served?.line(host, line, stream, partial);
                  files?.line(host, line, partial);
                },
              }
            : {}),
          ...(served ? { onStart: (host: string) => served.started(host) } : {}),
          onDone: (r) => {
            files?.done(r.name);
            served?.done(r);
            if (level >= 1) {
              const how = r.timedOut ? "timed out" : r.error ? `unreachable: ${r.error}` : `exit ${r.exitCode}`;
              process.stderr.write(`troupe exec: ${r.name}: ${how} in ${(r.durationMs / 1000).toFixed(1)}s\n`);
            }
          },
        });
      } finally {
        await served?.finish(results, interrupt.soft.aborted);
      }
      if (interrupt.soft.aborted) {
        // 130 for Ctrl-C (and an interrupt from the API); 128+N for the signal that came (SIGTERM 143, SIGHUP 129).
        const by = interrupt.by;
        return by && by !== "SIGINT" ? 128 + osConstants.signals[by] : EXIT.INTERRUPTED;
      }
      if (opts.collate) {
        for (const g of collate(results)) {
          const title = `${foldHostlist(g.hosts)} (${g.hosts.length})`;
          process.stdout.write(`---------------\n${title}\n---------------\n${g.output}`);
        }
      }
      const problems: string[] = [];
      const write = async (file: string, text: string, what: string): Promise<void> => {
        await writeFile(file, text).catch((err: unknown) => problems.push(`cannot write ${what} ${file}: ${(err as Error).message}`));
      };
      if (json === "-") process.stdout.write(JSON.stringify(out.toJsonResults(results, files), null, 2) + "\n");
      else if (json !== undefined) await write(json, JSON.stringify(out.toJsonResults(results, files), null, 2) + "\n", "--json=");
      if (opts.junit) await write(opts.junit, out.toJUnit(command.join(" "), results), "--junit");
      const failed = results.filter((r) => r.exitCode !== 0);
      if (failed.length) {
        const timedOut = failed.filter((r) => r.timedOut).map((r) => r.name);
        process.stderr.write(
          `troupe exec: ${failed.length} of ${results.length} host(s) failed: ${foldHostlist(failed.map((r) => r.name))}` +
            (timedOut.length ? ` (timed out: ${foldHostlist(timedOut)})` : "") +
            "\n",
        );
      }
      for (const p of problems) process.stderr.write(`troupe exec: ${p}\n`);
      const status = Math.max(0, ...results.map((r) => r.exitCode));
      return problems.length > 0 && status === 0 ? EXIT.FAILED : status;
    } finally {
      files?.close();
      await fleet.close();
    }
  } finally {
    interrupt.dispose();
  }
}
