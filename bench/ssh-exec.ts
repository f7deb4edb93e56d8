// Benchmark (issue 12): `troupe exec HOSTS -- hostname` over OpenSSH to N
// ssh hosts, cold (a new process each round, as a user runs it), against
// parallel-ssh on the same hosts in the same run, with pdsh (-R ssh) and
// clush measured for information. Goal: troupe at most 1.0x parallel-ssh.
//
//   npx tsc -p tsconfig.json && node dist/bench/ssh-exec.js [--hosts N] [--rounds R]
//       [--fanout F] [--kex default|ALGORITHMS] [--name LAB] [--baseline DIR]
//
// The hosts are lab hosts (`troupe lab up`: real sshd servers in network
// namespaces), but troupe reaches them as plain ssh hosts: through an
// Ansible inventory of their addresses, the lab's key and user root, so
// through the OpenSSH transport (src/transport/ssh/), not the in-process
// client that `lab:NAME` targets use. Host keys are accepted the way a user
// would set it up: a known_hosts file written here with this lab's hosts'
// keys (from the lab's records) and `StrictHostKeyChecking yes`.
//
// Fairness: every tool gets the same ssh options on its command line
// (troupe through --ssh-option, the peers through their own ways of
// passing ssh arguments) and reads the same system ssh_config, uses the
// same key exchange (ssh's default, or --kex ALGORITHMS for all), and runs
// with the same fan-out F (default 32: parallel-ssh's and pdsh's default;
// troupe gets --fanout F and TROUPE_SSH_HANDSHAKES=F). The tools take turns
// in each round, in an order that rotates from round to round.
//
// Besides wall time, each run's CPU time is counted on both sides: the
// client (the tool and every process it started, from this process's
// children's times) and the servers (each lab host's sshd, from its
// listener's own and children's times). `--baseline DIR` also measures the
// `troupe` of another checkout (DIR/bin/troupe.js, built) in the same
// rounds, for before/after figures.
//
// The lab (default `sshexec`, hosts sshexec-1..N) is brought up at the
// start and removed at the end, also on an error, SIGINT, SIGTERM or
// SIGHUP; a lab of that name that is up already is left alone and the
// benchmark refuses to run (pick another --name). Every command has a time
// limit, and so has the whole run. Exits 1 when the goal is not met.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { labDown, labStatus, labUp, LAB_STATE_DIR } from "../src/backends/lab/index.js";
import { listRecords } from "../src/backends/lab/records.js";
import { arg, ensureBuilt, median, troupeBin } from "./common.js";
import {
  checkHostnames,
  ensureTool,
  killRunning,
  lastLines,
  parsePrefixed,
  parsePssh,
  run,
  type HostLine,
  type Ran,
} from "./lab-common.js";

const n = Number(arg("--hosts", "100"));
const rounds = Number(arg("--rounds", "5"));
const fanoutWidth = Number(arg("--fanout", "32"));
const kex = arg("--kex", "default");
const LAB = arg("--name", "sshexec");
const baselineDir = arg("--baseline", "");
for (const [name, v] of [
  ["--hosts", n],
  ["--rounds", rounds],
  ["--fanout", fanoutWidth],
] as const) {
  if (!Number.isInteger(v) || v < 1) usage(`${name} takes a whole number >= 1`);
}
if (n > 250) usage("--hosts: at most 250");
if (!/^[A-Za-z0-9@.,+-]+$/.test(kex)) usage("--kex takes `default` or key exchange algorithms, e.g. curve25519-sha256");
if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(LAB)) usage("--name takes a lab name: lower-case letters, digits and dashes");
const baselineBin = baselineDir === "" ? undefined : join(resolve(baselineDir), "bin", "troupe.js");
if (baselineBin !== undefined && !existsSync(baselineBin)) usage(`--baseline: no ${baselineBin}`);

/** One tool's one run over every host. */
const COMMAND_TIMEOUT_MS = 120_000 + n * 1_000;
/** The whole benchmark. */
const DEADLINE_MS = 45 * 60_000;

function usage(message: string): never {
  console.error(`ssh-exec: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------- cleanup

const dir = mkdtempSync(join(tmpdir(), "troupe-ssh-exec-"));
/** Set once this run starts making the lab: only then is it ours to remove. */
let labMade = false;
let cleaning: Promise<void> | undefined;

/** Remove the lab (if this run made it) and the scratch directory; once. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (labMade) {
      try {
        const r = await labDown({ name: LAB });
        console.log(`lab ${LAB}: ${r.removed.length} hosts removed`);
      } catch (err) {
        console.error(`ssh-exec: cannot remove the lab ${LAB} (run \`troupe lab down --name ${LAB}\`): ${String(err)}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

function interrupted(signal: NodeJS.Signals): void {
  console.error(`ssh-exec: ${signal}: stopping and removing the lab`);
  killRunning();
  void cleanup().finally(() => process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15)));
}
process.once("SIGINT", interrupted);
process.once("SIGTERM", interrupted);
process.once("SIGHUP", interrupted);
const deadline = setTimeout(() => {
  console.error(`ssh-exec: still running after ${DEADLINE_MS / 60_000} minutes; giving up`);
  killRunning();
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
deadline.unref();

// ---------------------------------------------------------------- CPU time

const TICKS_PER_SECOND = 100;

/** utime, stime, cutime, cstime of a process, in clock ticks. */
function times(pid: number | "self"): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .slice(11, 15)
    .map(Number);
}

/** CPU seconds of everything this process has started and waited for (the tools and what they started). */
function clientSeconds(): number {
  const [, , cutime = 0, cstime = 0] = times("self");
  return (cutime + cstime) / TICKS_PER_SECOND;
}

/** The lab hosts' sshd listeners: each one's times include every session it has served. */
let listeners: number[] = [];
async function findListeners(names: ReadonlySet<string>): Promise<void> {
  listeners = [];
  for (const r of await listRecords(LAB_STATE_DIR)) {
    if (!names.has(r.name) || !r.init) continue;
    const init = r.init.pid;
    const child = readFileSync(`/proc/${init}/task/${init}/children`, "utf8").trim().split(/\s+/)[0];
    if (child) listeners.push(Number(child));
  }
  if (listeners.length !== names.size) throw new Error(`found the sshd of ${listeners.length} of ${names.size} lab hosts`);
}

function serverSeconds(): number {
  let ticks = 0;
  for (const pid of listeners) ticks += times(pid).reduce((a, b) => a + b, 0);
  return ticks / TICKS_PER_SECOND;
}

// ---------------------------------------------------------------- tools

interface Hosts {
  /** Lab host names, in order: what each host prints. */
  readonly names: readonly string[];
  /** Address -> name, to read the peers' output (they name hosts by address). */
  readonly nameOf: ReadonlyMap<string, string>;
  readonly addresses: readonly string[];
  readonly key: string;
  readonly knownHosts: string;
}

interface Tool {
  readonly name: string;
  /** The program run (what must be installed). */
  readonly program: string;
  skipped?: string;
  readonly invoke: () => Promise<Ran>;
  readonly parse: (stdout: string) => HostLine[];
}

/** The ssh options every tool passes, as `Key=Value`. */
function sshOptions(h: Hosts): string[] {
  return [
    `UserKnownHostsFile=${h.knownHosts}`,
    "GlobalKnownHostsFile=/dev/null",
    "StrictHostKeyChecking=yes",
    "IdentitiesOnly=yes",
    "BatchMode=yes",
    ...(kex === "default" ? [] : [`KexAlgorithms=${kex}`]),
  ];
}

function tools(h: Hosts): Tool[] {
  const opts = sshOptions(h);
  const sshArgs = [...opts.flatMap((o) => ["-o", o]), "-i", h.key].join(" ");
  const inventory = join(dir, "hosts.ini");
  writeFileSync(
    inventory,
    [
      `[${LAB}]`,
      ...h.names.map((name, i) => `${name} ansible_host=${h.addresses[i]!}`),
      "",
      `[${LAB}:vars]`,
      "ansible_user=root",
      `ansible_ssh_private_key_file=${h.key}`,
      "",
    ].join("\n"),
  );
  const hostsFile = join(dir, "hosts");
  writeFileSync(hostsFile, h.addresses.join("\n") + "\n");
  const list = h.addresses.join(",");
  const limits = { cwd: dir, timeoutMs: COMMAND_TIMEOUT_MS };
  const byAddress = (lines: HostLine[]): HostLine[] => lines.map((l) => ({ label: h.nameOf.get(l.label) ?? l.label, value: l.value }));
  const troupe = (name: string, bin: string): Tool => ({
    name,
    program: process.execPath,
    invoke: () =>
      run(
        process.execPath,
        [bin, "exec", "-i", inventory, LAB, "--fanout", String(fanoutWidth), ...opts.flatMap((o) => ["-o", o]), "--", "hostname"],
        { ...limits, env: { ...process.env, TROUPE_SSH_HANDSHAKES: String(fanoutWidth) } },
      ),
    parse: parsePrefixed,
  });
  return [
    troupe("troupe exec", troupeBin()),
    ...(baselineBin ? [troupe("troupe (baseline)", baselineBin)] : []),
    {
      name: "parallel-ssh",
      program: "parallel-ssh",
      invoke: () =>
        run(
          "parallel-ssh",
          ["-h", hostsFile, "-l", "root", "-p", String(fanoutWidth), "-t", "60", "-x", sshArgs, "-i", "hostname"],
          limits,
        ),
      parse: (out) => byAddress(parsePssh(out)),
    },
    {
      name: "pdsh -R ssh",
      program: "pdsh",
      invoke: () =>
        run("pdsh", ["-R", "ssh", "-f", String(fanoutWidth), "-l", "root", "-w", list, "hostname"], {
          ...limits,
          env: { ...process.env, PDSH_SSH_ARGS: `${sshArgs} -l%u %h` },
        }),
      parse: (out) => byAddress(parsePrefixed(out)),
    },
    {
      name: "clush",
      program: "clush",
      invoke: () => run("clush", ["-f", String(fanoutWidth), "-l", "root", "-o", sshArgs, "-w", list, "hostname"], limits),
      parse: (out) => byAddress(parsePrefixed(out)),
    },
  ];
}

// ---------------------------------------------------------------- measuring

interface Sample {
  readonly wall: number;
  readonly client: number;
  readonly server: number;
}
const samples = new Map<string, Sample[]>();

/** Fail loudly unless the run printed every host's hostname, each from its own host. */
function verify(tool: string, r: Ran, lines: HostLine[], names: readonly string[]): void {
  const problem = checkHostnames(lines, names);
  if (r.code === 0 && problem === undefined) return;
  const status = r.code === 0 ? "" : `exit status ${r.code ?? r.signal}; `;
  throw new Error(
    `${tool} did not print the ${names.length} hostnames: ${status}${problem ?? "output ok"}\n  stderr: ${lastLines(r.stderr, 4)}`,
  );
}

/** This lab's hosts' keys, from the lab's known_hosts, as a file of their own. */
function writeKnownHosts(addresses: readonly string[], labKnownHosts: string): string {
  const wanted = new Set(addresses);
  const lines = readFileSync(labKnownHosts, "utf8")
    .split("\n")
    .filter((l) => wanted.has(l.split(" ")[0] ?? ""));
  const found = new Set(lines.map((l) => l.split(" ")[0]));
  const missing = addresses.filter((a) => !found.has(a));
  if (missing.length) throw new Error(`no host key recorded for ${missing.length} hosts, e.g. ${missing[0]}`);
  const file = join(dir, "known_hosts");
  writeFileSync(file, lines.join("\n") + "\n", { mode: 0o600 });
  return file;
}

async function main(): Promise<void> {
  ensureBuilt();
  const missing = new Map<string, string>();
  for (const [program, pkg] of [
    ["parallel-ssh", "pssh"],
    ["pdsh", "pdsh"],
    ["clush", "clustershell"],
  ] as const) {
    const why = await ensureTool(program, pkg);
    if (why !== undefined) missing.set(program, why);
  }
  if (missing.has("parallel-ssh")) throw new Error(`parallel-ssh is needed for the goal: ${missing.get("parallel-ssh")}`);

  const before = (await labStatus()).hosts.filter((x) => x.lab === LAB);
  if (before.length > 0) {
    throw new Error(`a lab named ${LAB} is up already (${before.length} hosts); not touching it: pick another --name`);
  }
  const t0 = performance.now();
  labMade = true;
  const up = await labUp(n, { name: LAB });
  const labHosts = up.labHosts;
  if (labHosts.length !== n) throw new Error(`lab ${LAB} has ${labHosts.length} hosts, not ${n}`);
  console.log(`lab ${LAB}: ${n} hosts up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const addresses = labHosts.map((x) => x.address);
  const hosts: Hosts = {
    names: labHosts.map((x) => x.name),
    addresses,
    nameOf: new Map(labHosts.map((x) => [x.address, x.name])),
    key: up.identityFile,
    knownHosts: writeKnownHosts(addresses, up.knownHosts),
  };
  await findListeners(new Set(hosts.names));

  const all = tools(hosts);
  for (const t of all) t.skipped = missing.get(t.program);
  const measured = all.filter((t) => t.skipped === undefined);

  // What starting node and loading troupe's CLI costs, part of every troupe run.
  const startup = await run(process.execPath, [troupeBin(), "--version"], { timeoutMs: 60_000 });

  for (let r = 0; r < rounds; r++) {
    const order = measured.map((_, i) => measured[(i + r) % measured.length]!);
    for (const t of order) {
      // Let the previous tool's sessions be reaped on the hosts, so that each run is counted on its own.
      await sleep(300);
      const client0 = clientSeconds();
      const server0 = serverSeconds();
      const ran = await t.invoke();
      verify(t.name, ran, t.parse(ran.stdout), hosts.names);
      await sleep(300);
      const list = samples.get(t.name) ?? [];
      list.push({ wall: ran.ms / 1000, client: clientSeconds() - client0, server: serverSeconds() - server0 });
      samples.set(t.name, list);
    }
  }
  report(
    measured.map((t) => t.name),
    all.filter((t) => t.skipped),
    startup.ms,
  );
}

function report(measured: readonly string[], skipped: readonly Tool[], startupMs: number): void {
  const med = (tool: string, key: keyof Sample): number => median((samples.get(tool) ?? []).map((s) => s[key]));
  console.log(
    `\n\`hostname\` on ${n} ssh hosts over OpenSSH, cold, median of ${rounds} rounds ` +
      `(fan-out ${fanoutWidth}; key exchange: ${kex === "default" ? "ssh's default" : kex}; node + CLI load ${(startupMs / 1000).toFixed(3)} s)`,
  );
  const troupe = med("troupe exec", "wall");
  const pssh = med("parallel-ssh", "wall");
  const width = Math.max(...measured.map((x) => x.length));
  console.log(`  ${"".padEnd(width)}  wall      vs parallel-ssh   CPU client  server   walls`);
  for (const tool of measured) {
    const walls = (samples.get(tool) ?? []).map((s) => s.wall.toFixed(2)).join(" ");
    const ratio = `${(med(tool, "wall") / pssh).toFixed(2)}x`;
    console.log(
      `  ${tool.padEnd(width)}  ${med(tool, "wall").toFixed(3)} s  ${ratio.padStart(8)}         ` +
        `${med(tool, "client").toFixed(2)} s   ${med(tool, "server").toFixed(2)} s   [${walls}]`,
    );
  }
  for (const t of skipped) console.log(`  ${t.name}: skipped (${t.skipped})`);
  const met = troupe <= pssh;
  console.log(
    `goal: troupe ${troupe.toFixed(3)} s <= parallel-ssh ${pssh.toFixed(3)} s: ${(troupe / pssh).toFixed(2)}x ${met ? "MET" : "NOT MET"}`,
  );
  if (!met) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  console.error(`ssh-exec: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(deadline);
}
