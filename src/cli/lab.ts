// `troupe lab up|down|gc|status`: throwaway hosts on this machine, kept
// around for manual work or cleaned up after a crash.

import type { Command } from "commander";
import type { LabHostInfo, LabStatus } from "../backends/lab/index.js";
import type * as LabApi from "../backends/lab/index.js";

/** The lab, loaded when a lab command runs (see main.ts). */
const labApi = (): Promise<typeof LabApi> => import("../backends/lab/index.js");
import { positiveInt } from "./common.js";
import { naturalCompare } from "../util/natural-order.js";

export function addLabCommand(program: Command): void {
  const lab = program
    .command("lab")
    .description("manage lab hosts: network namespaces with their own address, filesystem and sshd (root)")
    .addHelpText(
      "after",
      `
Lab hosts are what the \`lab\` backend allocates for a run; \`lab up\` keeps some
around for manual work. Each has its own address on the bridge troupe-lab0,
its own hostname, process tree and copy-on-write view of this machine's files.
This machine has room for 1,000 of them, shared by every troupe process.
While it has hosts, the lab raises the kernel's neighbour-table thresholds
(net.ipv4.neigh.default.gc_thresh2/3) where they are lower than a full lab
needs, and puts them back when its last host goes.

Examples:
  troupe lab up 3                 three hosts, lab-1..lab-3, and how to ssh in
  troupe lab status
  troupe lab down                 remove them
  troupe lab gc                   remove what a crashed run left behind`,
    );

  lab
    .command("up")
    .description("bring up N lab hosts and keep them until `troupe lab down`")
    .argument("<n>", "how many hosts", positiveInt("N"))
    .option("--name <name>", "the lab's name; hosts are NAME-1, NAME-2, ...", "lab")
    .option("--concurrency <n>", "hosts brought up at once", positiveInt("--concurrency"))
    .addHelpText(
      "after",
      `
Ctrl-C (or SIGTERM, SIGHUP) stops it: the hosts it started are removed
again, those that were up before stay, and it exits with status 130.
Should it be killed outright, \`troupe lab gc\` removes the hosts it left
half-made.`,
    )
    .action(async (n: number, opts: { name: string; concurrency?: number }) => {
      const r = await whileCatching(STOP_SIGNALS, (signal) =>
        labApi().then((api) => api.labUp(n, { name: opts.name, signal, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) })),
      );
      process.stdout.write(`Lab ${r.lab}: ${r.labHosts.length} host(s) up (${r.created.length} new).\n`);
      printHosts(r.labHosts);
      process.stdout.write(`\nLog in with:\n  ssh -F ${r.sshConfig} ${r.labHosts[0]?.name ?? `${r.lab}-1`}\n`);
      process.stdout.write(`Remove with:\n  troupe lab down${r.lab === "lab" ? "" : ` --name ${r.lab}`}\n`);
    });

  lab
    .command("down")
    .description("remove the hosts of a lab made by `troupe lab up`")
    .option("--name <name>", "which lab", "lab")
    .option("--all", "every lab host of this machine, whoever made it")
    .action(async (opts: { name: string; all?: boolean }) => {
      const r = await (await labApi()).labDown({ name: opts.name, ...(opts.all ? { all: true } : {}) });
      process.stdout.write(r.removed.length ? `Removed ${byName(r.removed).join(", ")}.\n` : "No lab hosts to remove.\n");
    });

  lab
    .command("gc")
    .description("remove lab hosts whose troupe process is gone, half-made hosts, and leftovers with no record")
    .option("--all", "also hosts of `lab up` and of troupe processes still running")
    .action(async (opts: { all?: boolean }) => {
      const r = await (await labApi()).labGc(opts.all ? { all: true } : {});
      const parts = [
        r.removed.length ? `removed ${byName(r.removed).join(", ")}` : "no hosts to remove",
        ...(r.orphans.length ? [`cleaned leftovers of slots ${r.orphans.join(", ")}`] : []),
        ...(r.bridgeRemoved ? ["removed the bridge"] : []),
      ];
      process.stdout.write(`lab gc: ${parts.join("; ")}.\n`);
      // The journals of killed runs in this project that listed lab hosts only.
      const { sweepProjectJournals } = await import("../backends/reuse/journals.js");
      for (const line of await sweepProjectJournals(process.cwd(), new Set(["lab"]))) process.stdout.write(`lab gc: ${line}\n`);
    });

  lab
    .command("status")
    .description("list every lab host of this machine")
    .option("--json", "as JSON")
    .action(async (opts: { json?: boolean }) => {
      const s: LabStatus = await (await labApi()).labStatus();
      if (opts.json) {
        process.stdout.write(JSON.stringify(s, null, 2) + "\n");
        return;
      }
      if (s.hosts.length === 0) {
        process.stdout.write("No lab hosts.\n");
        return;
      }
      printHosts(s.hosts);
    });
}

/** What stops `lab up` (and makes it clean up): the terminal's Ctrl-C, a kill, a closed terminal. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Run `fn` with a signal that aborts on the first of `signals`; later ones
 * only say that cleaning up goes on (the process must not die half-way
 * through removing what it made). The handlers go when `fn` settles.
 */
async function whileCatching<T>(signals: readonly NodeJS.Signals[], fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!ac.signal.aborted) {
      process.stderr.write(`\ntroupe lab: ${sig}: interrupted; removing the hosts it started...\n`);
      ac.abort();
    } else process.stderr.write(`\ntroupe lab: ${sig}: still removing the hosts it started; please wait\n`);
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/** Names in natural order: lab-2 before lab-10. */
function byName(names: readonly string[]): string[] {
  return [...names].sort(naturalCompare);
}

function printHosts(hosts: readonly LabHostInfo[]): void {
  const w = Math.max(4, ...hosts.map((h) => h.name.length));
  process.stdout.write(`  ${"NAME".padEnd(w)}  ${"ADDRESS".padEnd(15)}  STATE\n`);
  for (const h of hosts) {
    const reuse = h.reuse !== undefined ? ` for --reuse (${h.reuse})` : "";
    const state = h.making
      ? h.ownerAlive
        ? `being made by pid ${h.ownerPid}`
        : "half-made (troupe lab gc)"
      : h.ownerAlive && !h.lab && h.running
        ? `in use by pid ${h.ownerPid}`
        : !h.running
          ? `down${reuse}`
          : h.kept
            ? `kept${reuse}`
            : "orphaned (troupe lab gc)";
    process.stdout.write(`  ${h.name.padEnd(w)}  ${h.address.padEnd(15)}  ${state}\n`);
  }
}
