// `troupe exec HOSTS -- CMD...`: one command on many hosts, pdsh/clush style.

import type { Command } from "commander";
import { foldHostlist } from "../util/hostlist.js";
import { EXIT, TroupeError } from "../util/errors.js";
import { collect, positiveInt } from "./common.js";

interface ExecCliOptions {
  readonly inventory?: string;
  readonly user?: string;
  readonly collate?: boolean;
  readonly fanout?: number;
  readonly sshOption?: string[];
}

export function addExecCommand(program: Command): void {
  program
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
    .option("-f, --fanout <n>", "commands running at once (default 256)", positiveInt("--fanout"))
    .option("-o, --ssh-option <key=value>", "an ssh option, e.g. ProxyJump=bastion (repeatable)", collect)
    .addHelpText(
      "after",
      `
Exit status: the highest exit status of any host (255 when a host could not
be reached), so a script can tell that something failed anywhere. Ctrl-C,
SIGTERM and SIGHUP kill the command on every host and exit 130.

Each host gets a connection of its own for the command, as with pdsh (no
ControlMaster to open and close): an ssh process per host, or for lab hosts
a connection held by troupe itself (TROUPE_LAB_SSH=openssh: ssh there too).
TROUPE_SSH_HANDSHAKES (default 32) bounds how many are being set up at once,
--fanout how many commands run at once.

Examples:
  troupe exec 'root@node[01-04]' -- uptime
  troupe exec -i hosts.ini webservers -- systemctl is-active nginx
  troupe lab up 4 && troupe exec lab --collate -- cat /etc/debian_version`,
    )
    .action(async (hosts: string, command: string[], opts: ExecCliOptions) => {
      if (command.length === 0) throw new TroupeError("E_USAGE", "no command given; write `troupe exec HOSTS -- CMD...`");
      const sshOptions: Record<string, string> = {};
      for (const o of opts.sshOption ?? []) {
        const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(o);
        if (!m) throw new TroupeError("E_USAGE", `--ssh-option takes Key=Value, e.g. ProxyJump=bastion, not "${o}"`);
        sshOptions[m[1]!] = m[2]!;
      }
      const [{ collate, openFleet }, { onInterrupt }] = await Promise.all([import("../api/fanout.js"), import("../api/interrupt.js")]);
      // Ctrl-C, SIGTERM and SIGHUP alike: the command is killed on every host, connections closed, exit 130.
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
          const width = Math.max(...fleet.targets.map((t) => t.name.length));
          const results = await fleet.exec(command.join(" "), {
            ...(opts.fanout ? { fanout: opts.fanout } : {}),
            signal: interrupt.soft,
            ...(opts.collate
              ? {}
              : {
                  onLine: (host: string, line: string, stream: "stdout" | "stderr") =>
                    (stream === "stdout" ? process.stdout : process.stderr).write(`${host.padEnd(width)}: ${line}\n`),
                }),
          });
          if (interrupt.soft.aborted) {
            process.exitCode = EXIT.INTERRUPTED;
            return;
          }
          if (opts.collate) {
            for (const g of collate(results)) {
              const title = `${foldHostlist(g.hosts)} (${g.hosts.length})`;
              process.stdout.write(`---------------\n${title}\n---------------\n${g.output}`);
            }
          }
          const failed = results.filter((r) => r.exitCode !== 0);
          if (failed.length) {
            process.stderr.write(
              `troupe exec: ${failed.length} of ${results.length} host(s) failed: ${foldHostlist(failed.map((r) => r.name))}\n`,
            );
          }
          process.exitCode = Math.max(0, ...results.map((r) => r.exitCode));
        } finally {
          await fleet.close();
        }
      } finally {
        interrupt.dispose();
      }
    });
}
