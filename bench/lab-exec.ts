// Benchmark (issues 4 and 12): `hostname` on N lab hosts, cold (new
// connections) and warm (a second command over connections already open),
// with troupe and with pdsh (-R ssh), parallel-ssh, clush and `ansible -m
// raw`, on the same hosts in the same run; then, with --rss-hosts M, on M
// hosts (the lab grown to M), cold. Goals, each a ratio:
//   - troupe cold no slower than the fastest peer cold, on N hosts;
//   - troupe warm at least 2x faster than pdsh over ControlMaster sockets;
//   - troupe exec's peak RSS (the orchestrator's) under 300 MB on M hosts.
// Issue 12's figures: --hosts 500 --rss-hosts 1000 --peers pdsh,parallel-ssh,clush.
//
//   npx tsc -p tsconfig.json && node dist/bench/lab-exec.js [--hosts N] [--rss-hosts M]
//       [--rounds R] [--peers pdsh,parallel-ssh,clush,ansible] [--peer-fanout F] [--peer-kex same|default]
//       [--lab NAME]
//
// Every peer reaches the hosts with `ssh -F <generated config>`, a config
// with the lab's key and the hosts' keys, as the lab's own ssh_config has
// them (written here from the lab's records: the lab's file is rewritten
// by every troupe process that changes a lab, and older troupes write it in
// place, where ssh may read it half-written). By default it also sets KexAlgorithms
// curve25519-sha256, the key exchange troupe's lab transport asks for: the
// default post-quantum hybrid costs about 3x as much CPU per handshake, and
// comparing troupe with it against peers without it would measure the
// cipher, not the tools. `--peer-kex default` leaves ssh's default to the
// peers (troupe keeps its own).
//
// Peers run with fanout F (default 32, pdsh's and parallel-ssh's own
// default; clush's is 64, ansible's 5); troupe runs with its defaults
// (TROUPE_SSH_HANDSHAKES, if set, is passed on to it). Every program runs
// under GNU time, for its peak RSS.
//
// The lab is `bench` (hosts bench-1..bench-N; --lab NAME for another name),
// brought up at the start and removed at the end, also on an error, Ctrl-C,
// SIGTERM or SIGHUP. Every command has a time
// limit, and so has the whole run.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fanout, resolveTargets, type FanoutTarget, type HostOutcome } from "../src/api/fanout.js";
import { labDown, labSshClient, labStatus, labUp } from "../src/backends/lab/index.js";
import { DEFAULT_STATE_DIR as LAB_STATE_DIR, labPaths, MAX_SLOTS } from "../src/backends/lab/layout.js";
import { listRecords } from "../src/backends/lab/records.js";
import { arg, ensureBuilt, median, troupeBin } from "./common.js";
import {
  checkHostnames,
  ensureTool,
  GNU_TIME,
  haveTool,
  killRunning,
  lastLines,
  parseAnsibleOneline,
  parsePrefixed,
  parsePssh,
  pool,
  run,
  type HostLine,
  type Ran,
} from "./lab-common.js";

const n = Number(arg("--hosts", "100"));
const rssHosts = Number(arg("--rss-hosts", String(n)));
const rounds = Number(arg("--rounds", "3"));
const peerFanout = Number(arg("--peer-fanout", "32"));
const peerKex = arg("--peer-kex", "same");
const peerNames = arg("--peers", "pdsh,parallel-ssh,clush,ansible").split(",");
for (const [name, v] of [
  ["--hosts", n],
  ["--rss-hosts", rssHosts],
  ["--rounds", rounds],
  ["--peer-fanout", peerFanout],
] as const) {
  if (!Number.isInteger(v) || v < 1) usage(`${name} takes a whole number >= 1`);
}
if (rssHosts > MAX_SLOTS) usage(`--rss-hosts: a lab has room for at most ${MAX_SLOTS} hosts on one machine`);
if (rssHosts < n) usage("--rss-hosts: at least --hosts");
if (peerKex !== "same" && peerKex !== "default") usage("--peer-kex takes same or default");
const PEERS = ["pdsh", "parallel-ssh", "clush", "ansible"];
/** The lab's name: another one than a benchmark of someone else's on the same machine. */
const LAB = arg("--lab", "bench");
if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(LAB)) usage("--lab takes a name of lower-case letters, digits and dashes");
for (const p of peerNames) if (!PEERS.includes(p)) usage(`--peers: ${p} is not one of ${PEERS.join(", ")}`);

/** What troupe's lab transport asks for (src/backends/lab/driver.ts). */
const TROUPE_LAB_KEX = "curve25519-sha256";
/** One tool's one run over every host. */
const COMMAND_TIMEOUT_MS = 120_000 + rssHosts * 1_000;
/** The whole benchmark. */
const DEADLINE_MS = 45 * 60_000 + rssHosts * 3_000;
/** The memory goal: troupe exec's peak RSS on --rss-hosts hosts. */
const RSS_GOAL_MB = 300;

function usage(message: string): never {
  console.error(`lab-exec: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------- cleanup

const dir = mkdtempSync(join(tmpdir(), "troupe-lab-exec-"));
let troupeTargets: FanoutTarget[] = [];
let mastersOpen: string[] = [];
let cleaning: Promise<void> | undefined;

/** Close every connection, remove the lab and the scratch directory; once. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        console.error(`lab-exec: cannot ${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    await step("close troupe's connections", () => Promise.all(troupeTargets.map((t) => t.transport.close())));
    await step("close the ControlMaster connections", () => closeMasters());
    await step(`remove the lab ${LAB}`, async () => {
      const r = await labDown({ name: LAB });
      console.log(`lab ${LAB}: ${r.removed.length} hosts removed`);
    });
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

function interrupted(signal: NodeJS.Signals): void {
  console.error(`lab-exec: ${signal}: stopping and removing the lab`);
  killRunning();
  void cleanup().finally(() => process.exit(130));
}
process.once("SIGINT", interrupted);
process.once("SIGTERM", interrupted);
process.once("SIGHUP", interrupted);
const deadline = setTimeout(() => {
  console.error(`lab-exec: still running after ${DEADLINE_MS / 60_000} minutes; giving up`);
  killRunning();
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
deadline.unref();

// ---------------------------------------------------------------- peers

interface Peer {
  readonly name: string;
  /** The program run (what must be installed). */
  readonly program: string;
  /** Why it is not measured (not installed and could not be). */
  skipped?: string;
  /** Run it over every host; `warm` uses the ControlMaster sockets. */
  readonly invoke: (warm: boolean) => Promise<Ran>;
  readonly parse: (stdout: string) => HostLine[];
}

function peers(names: readonly string[], coldCfg: string, warmCfg: string): Peer[] {
  const hostlist = `${LAB}-[1-${names.length}]`;
  const hostsFile = join(dir, `hosts-${names.length}`);
  writeFileSync(hostsFile, names.join("\n") + "\n");
  const inventory = (cfg: string): string => {
    const file = join(dir, `inventory-${cfg === coldCfg ? "cold" : "warm"}-${names.length}.ini`);
    // ansible's default ssh_args (ControlMaster=auto, ControlPersist=60s)
    // would keep a master per host after the first cold round and make the
    // later ones warm: no persistence, sockets only where the config says.
    writeFileSync(
      file,
      [`[${LAB}]`, ...names, "", `[${LAB}:vars]`, `ansible_ssh_common_args=-F ${cfg}`, "ansible_ssh_args=-o ControlMaster=no", ""].join(
        "\n",
      ),
    );
    return file;
  };
  const inventories = { cold: inventory(coldCfg), warm: inventory(warmCfg) };
  const ansibleEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ANSIBLE_CONFIG: join(dir, "ansible.cfg"),
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_LOCAL_TEMP: join(dir, "ansible-tmp"),
    ANSIBLE_DEPRECATION_WARNINGS: "False",
  };
  writeFileSync(join(dir, "ansible.cfg"), "[defaults]\n");
  const cfg = (warm: boolean): string => (warm ? warmCfg : coldCfg);
  const opts = { cwd: dir, timeoutMs: COMMAND_TIMEOUT_MS, rss: rssFile };
  return [
    {
      name: "pdsh -R ssh",
      program: "pdsh",
      invoke: (warm) =>
        run("pdsh", ["-R", "ssh", "-f", String(peerFanout), "-w", hostlist, "hostname"], {
          ...opts,
          env: { ...process.env, PDSH_SSH_ARGS: `-F ${cfg(warm)} %h` },
        }),
      parse: parsePrefixed,
    },
    {
      name: "parallel-ssh",
      program: "parallel-ssh",
      invoke: (warm) =>
        run("parallel-ssh", ["-h", hostsFile, "-p", String(peerFanout), "-t", "60", "-x", `-F ${cfg(warm)}`, "-i", "hostname"], opts),
      parse: parsePssh,
    },
    {
      name: "clush",
      program: "clush",
      invoke: (warm) => run("clush", ["-f", String(peerFanout), "-o", `-F ${cfg(warm)}`, "-w", hostlist, "hostname"], opts),
      parse: parsePrefixed,
    },
    {
      name: "ansible -m raw",
      program: "ansible",
      invoke: (warm) =>
        run(
          "ansible",
          [
            LAB,
            "-i",
            warm ? inventories.warm : inventories.cold,
            "-m",
            "raw",
            "-a",
            "hostname",
            "-f",
            String(peerFanout),
            "-o",
            "-T",
            "30",
          ],
          {
            ...opts,
            env: ansibleEnv,
          },
        ),
      parse: parseAnsibleOneline,
    },
  ];
}

/** The bench lab's own ssh_config and known_hosts (what the lab's ssh_config says of its hosts). */
const labConfig = join(dir, "lab.ssh_config");
async function writeLabConfig(): Promise<void> {
  const records = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === LAB);
  const known = join(dir, "known_hosts");
  writeFileSync(known, records.map((r) => `${r.address} ${r.hostKey ?? ""}\n`).join(""));
  const identity = labPaths(LAB_STATE_DIR).keyFile;
  writeFileSync(
    labConfig,
    records
      .map((r) =>
        [
          `Host ${r.name} ${r.address}`,
          `  HostName ${r.address}`,
          "  User root",
          `  IdentityFile ${identity}`,
          "  IdentitiesOnly yes",
          `  UserKnownHostsFile ${known}`,
          "  GlobalKnownHostsFile /dev/null",
          "  StrictHostKeyChecking yes",
          "  UpdateHostKeys no",
          "",
        ].join("\n"),
      )
      .join("\n"),
  );
}

/** The ssh configs of the peers: cold (no sharing) and warm (over the masters). */
function writeSshConfigs(): { coldCfg: string; warmCfg: string; controlPath: string } {
  const coldCfg = join(dir, "cold.ssh_config");
  const warmCfg = join(dir, "warm.ssh_config");
  const controlPath = join(dir, "cm-%h");
  // ssh keeps the first value it reads for an option, so what comes before
  // the Include wins over the lab's file.
  writeFileSync(
    coldCfg,
    [
      "Host *",
      "  BatchMode yes",
      "  ControlMaster no",
      "  ControlPath none",
      ...(peerKex === "same" ? [`  KexAlgorithms ${TROUPE_LAB_KEX}`] : []),
      `  Include ${labConfig}`,
      "",
    ].join("\n"),
  );
  // Warm must really go over the masters: should a socket refuse a session,
  // ssh would quietly make a new connection, through a ProxyCommand that fails.
  writeFileSync(
    warmCfg,
    ["Host *", "  ControlMaster no", `  ControlPath ${controlPath}`, "  ProxyCommand false", `  Include ${coldCfg}`, ""].join("\n"),
  );
  return { coldCfg, warmCfg, controlPath };
}

/** `ssh -M -N -f` to every host (not timed): the sockets pdsh and the others use warm. */
async function openMasters(names: readonly string[], coldCfg: string, controlPath: string): Promise<void> {
  const failed: string[] = [];
  await pool(names, 16, async (host) => {
    const r = await run(
      "ssh",
      // -M alone: -M with ControlMaster=yes as well means "ask" (and no askpass: every session refused).
      ["-F", coldCfg, "-o", `ControlPath=${controlPath}`, "-o", "ControlPersist=no", "-M", "-N", "-f", host],
      { timeoutMs: 60_000, untilExit: true },
    );
    if (r.code === 0) mastersOpen.push(host);
    else failed.push(`${host}: ${lastLines(r.stderr, 1)}`);
  });
  if (failed.length) throw new Error(`cannot open ControlMaster connections to ${failed.length} hosts: ${failed.slice(0, 3).join("; ")}`);
}

let warmCfgForClose = "";
async function closeMasters(): Promise<void> {
  const hosts = mastersOpen;
  mastersOpen = [];
  await pool(hosts, 16, async (host) => {
    const r = await run("ssh", ["-F", warmCfgForClose, "-O", "exit", host], { timeoutMs: 10_000 });
    if (r.code === 0) return;
    // Refused or stuck: end the master (a daemon this benchmark started) by its pid.
    const check = await run("ssh", ["-F", warmCfgForClose, "-O", "check", host], { timeoutMs: 10_000 });
    const pid = /pid=(\d+)/.exec(check.stderr)?.[1];
    if (pid !== undefined) {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch {
        /* gone already */
      }
    }
  });
}

// ---------------------------------------------------------------- measuring

/** GNU time's output file for the run in progress (runs are one at a time). */
const rssFile = join(dir, "rss");

/** What each tool took, per kind ("cold", "warm", "cold@M"): times in ms and peak RSS in KiB. */
const times = new Map<string, Map<string, { ms: number[]; rssKb: number[] }>>();
function record(tool: string, kind: string, r: { ms: number; maxRssKb?: number }): void {
  const byKind = times.get(tool) ?? new Map<string, { ms: number[]; rssKb: number[] }>();
  const t = byKind.get(kind) ?? { ms: [], rssKb: [] };
  t.ms.push(r.ms);
  if (r.maxRssKb !== undefined) t.rssKb.push(r.maxRssKb);
  byKind.set(kind, t);
  times.set(tool, byKind);
}
function med(tool: string, kind: string): number {
  return median(times.get(tool)?.get(kind)?.ms ?? []);
}
/** The highest peak RSS of `tool`'s runs of `kind`, in KiB (NaN if not measured). */
function peakRss(tool: string, kind: string): number {
  const xs = times.get(tool)?.get(kind)?.rssKb ?? [];
  return xs.length ? Math.max(...xs) : NaN;
}

/** Fail loudly unless the run printed every host's hostname. */
function verify(tool: string, kind: string, r: Ran, lines: HostLine[], names: readonly string[]): void {
  const problem = checkHostnames(lines, names);
  if (r.code === 0 && problem === undefined) return;
  const status = r.code === 0 ? "" : `exit status ${r.code ?? r.signal}; `;
  throw new Error(
    `${tool} (${kind}) did not print the ${names.length} hostnames: ${status}${problem ?? "output ok"}\n  stderr: ${lastLines(r.stderr, 4)}`,
  );
}

function verifyOutcomes(tool: string, results: readonly HostOutcome[], names: readonly string[]): void {
  const lines = results.map((r) => ({ label: r.name, value: r.output.trim() }));
  const failed = results.filter((r) => r.exitCode !== 0);
  const problem = checkHostnames(lines, names);
  if (failed.length === 0 && problem === undefined) return;
  const why = failed.length
    ? `${failed.length} hosts failed, e.g. ${failed[0]!.name}: ${failed[0]!.error ?? failed[0]!.output.trim()}; `
    : "";
  throw new Error(`${tool} did not print the ${names.length} hostnames: ${why}${problem ?? "output ok"}`);
}

async function troupeCli(names: readonly string[], kind: string): Promise<void> {
  const r = await run(process.execPath, [troupeBin(), "exec", `lab:${LAB}`, "--", "hostname"], {
    timeoutMs: COMMAND_TIMEOUT_MS,
    rss: rssFile,
  });
  verify("troupe exec", kind, r, parsePrefixed(r.stdout), names);
  record("troupe exec", kind, r);
}

/** Cold rounds on the lab's `names`: a new process and new connections for every run; tools take turns. */
async function coldRounds(names: readonly string[], kind: string, measured: readonly Peer[]): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    await troupeCli(names, kind);
    for (const p of measured) {
      const ran = await p.invoke(false);
      verify(p.name, kind, ran, p.parse(ran.stdout), names);
      record(p.name, kind, ran);
    }
  }
}

/** Bring lab `bench` up to `hosts` hosts; its host names and how long it took. */
async function growLab(hosts: number): Promise<{ names: string[]; ms: number }> {
  const t0 = performance.now();
  const up = await labUp(hosts, { name: LAB });
  const names = up.labHosts.map((h) => h.name);
  if (names.length !== hosts) throw new Error(`lab ${LAB} has ${names.length} hosts, not ${hosts}`);
  const ms = performance.now() - t0;
  console.log(`lab ${LAB}: ${hosts} hosts up (${up.created.length} new) in ${(ms / 1000).toFixed(1)} s`);
  await writeLabConfig();
  return { names, ms };
}

async function main(): Promise<void> {
  ensureBuilt();
  if (!haveTool(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (apt-get install time): it measures peak RSS`);
  // Install what is missing before the lab is up.
  const missing = new Map<string, string>();
  for (const [program, pkg] of [
    ["pdsh", "pdsh"],
    ["parallel-ssh", "pssh"],
    ["clush", "clustershell"],
    ["ansible", "ansible"],
  ] as const) {
    if (!peerNames.includes(program)) continue;
    const why = await ensureTool(program, pkg);
    if (why !== undefined) {
      missing.set(program, why);
      console.log(`${program}: skipped (${why})`);
    }
  }

  const st = await labStatus();
  const before = st.hosts.filter((h) => h.lab === LAB);
  if (before.length > 0) {
    // Left by an earlier run of this benchmark that could not clean up.
    console.log(`lab ${LAB}: removing ${before.length} hosts left from before`);
    await labDown({ name: LAB });
  }
  const others = st.hosts.length - before.length;
  if (others + rssHosts > MAX_SLOTS) {
    throw new Error(
      `other lab hosts hold ${others} of the machine's ${MAX_SLOTS} slots: ${rssHosts} do not fit (\`troupe lab status\` says whose)`,
    );
  }
  const lab = await growLab(n);
  const names = lab.names;

  const { coldCfg, warmCfg, controlPath } = writeSshConfigs();
  warmCfgForClose = warmCfg;
  const all = peers(names, coldCfg, warmCfg).filter((p) => peerNames.includes(p.program));
  for (const p of all) p.skipped = missing.get(p.program);
  const measured = all.filter((p) => p.skipped === undefined);

  // What starting node and loading troupe's CLI costs, part of every CLI run.
  const startup = await run(process.execPath, [troupeBin(), "--version"], { timeoutMs: 60_000 });

  await coldRounds(names, "cold", measured);

  // Warm, troupe in-process through the API `troupe exec` uses: the first
  // fanout opens the connections (timed apart, not counted as warm).
  //
  // The CLI has no warm case: each `troupe exec` process opens its own
  // connections and closes them before it exits, so a second CLI run is
  // another cold run (measured above). Warm is what a
  // long-lived troupe process (a run, a scenario, a library user) gets.
  troupeTargets = await resolveTargets(`lab:${LAB}`);
  const targetNames = troupeTargets.map((t) => t.name);
  if (targetNames.length !== n || targetNames.some((x, i) => x !== names[i])) {
    throw new Error(`resolveTargets("lab:${LAB}") gave ${targetNames.length} hosts, not ${names.join(", ")}`);
  }
  let t0 = performance.now();
  verifyOutcomes("troupe fanout (first)", await fanout(troupeTargets, "hostname"), names);
  const inProcessCold = performance.now() - t0;

  t0 = performance.now();
  await openMasters(names, coldCfg, controlPath);
  const mastersMs = performance.now() - t0;

  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    const results = await fanout(troupeTargets, "hostname");
    record("troupe (API)", "warm", { ms: performance.now() - t0 });
    verifyOutcomes("troupe fanout (warm)", results, names);
    for (const p of measured) {
      const ran = await p.invoke(true);
      verify(p.name, "warm", ran, p.parse(ran.stdout), names);
      record(p.name, "warm", ran);
    }
  }
  t0 = performance.now();
  await Promise.all(troupeTargets.map((t) => t.transport.close()));
  const closeMs = performance.now() - t0;
  troupeTargets = [];
  await closeMasters();

  // The lab grown to --rss-hosts: cold again, for memory (and time) at that size.
  let grown: { ms: number } | undefined;
  if (rssHosts > n) {
    const big = await growLab(rssHosts);
    grown = big;
    const bigPeers = peers(big.names, coldCfg, warmCfg).filter((p) => measured.some((m) => m.program === p.program));
    await coldRounds(big.names, `cold@${rssHosts}`, bigPeers);
  }

  report({
    measured: measured.map((p) => p.name),
    skipped: all.filter((p) => p.skipped),
    startupMs: startup.ms,
    labUpMs: lab.ms,
    ...(grown ? { grownMs: grown.ms } : {}),
    inProcessCold,
    closeMs,
    mastersMs,
  });
}

function report(r: {
  measured: readonly string[];
  skipped: readonly Peer[];
  startupMs: number;
  labUpMs: number;
  grownMs?: number;
  inProcessCold: number;
  closeMs: number;
  mastersMs: number;
}): void {
  const s = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
  const mb = (kb: number): string => (Number.isNaN(kb) ? "?" : `${(kb / 1024).toFixed(0)} MB`);
  const kex = peerKex === "same" ? `peers' KexAlgorithms ${TROUPE_LAB_KEX} like troupe's` : "peers with ssh's default key exchange";
  console.log(
    `\n\`hostname\` on lab hosts, median of ${rounds} rounds (${kex}; peer fanout ${peerFanout}; TROUPE_SSH_HANDSHAKES=${process.env["TROUPE_SSH_HANDSHAKES"] ?? "default"}; troupe's lab client: ${labSshClient()})`,
  );

  const table = (kind: string, hosts: number, troupe: string, rows: readonly string[]): void => {
    const t = med(troupe, kind);
    const width = Math.max(...[troupe, ...rows].map((x) => x.length));
    const rss = (tool: string): string => (kind === "warm" && tool === troupe ? "" : `  peak RSS ${mb(peakRss(tool, kind)).padStart(7)}`);
    console.log(`${kind.replace(/@.*/, "")} on ${hosts} hosts:`);
    console.log(`  ${troupe.padEnd(width)}  ${s(t)}${rss(troupe)}`);
    for (const tool of rows) {
      const p = med(tool, kind);
      console.log(`  ${tool.padEnd(width)}  ${s(p)}${rss(tool)}   troupe/${tool.split(" ")[0]} ${(t / p).toFixed(2)}x`);
    }
  };
  table("cold", n, "troupe exec", r.measured);
  table("warm", n, "troupe (API)", r.measured);
  if (rssHosts > n) table(`cold@${rssHosts}`, rssHosts, "troupe exec", r.measured);
  for (const p of r.skipped) console.log(`  ${p.name}: skipped (${p.skipped})`);
  console.log(
    `troupe phases: lab up ${n} ${s(r.labUpMs)}${r.grownMs !== undefined ? `, grown to ${rssHosts} in ${s(r.grownMs)}` : ""}; ` +
      `node + CLI load ${s(r.startupMs)}; in-process first fanout (connect + command) ${s(r.inProcessCold)}; ` +
      `close ${s(r.closeMs)}; peers' ${n} ControlMasters opened (16 at once) in ${s(r.mastersMs)}`,
  );

  const troupeCold = med("troupe exec", "cold");
  const fastest = r.measured.map((tool) => ({ tool, ms: med(tool, "cold") })).sort((a, b) => a.ms - b.ms)[0];
  if (fastest) {
    console.log(
      `goal cold: troupe ${s(troupeCold)} <= fastest peer (${fastest.tool}) ${s(fastest.ms)} on ${n} hosts: ` +
        `${(troupeCold / fastest.ms).toFixed(2)}x ${troupeCold <= fastest.ms ? "MET" : "NOT MET"}`,
    );
    if (troupeCold > fastest.ms) process.exitCode = 1;
  } else console.log("goal cold: NOT EVALUATED (no peer could be run)");
  if (r.measured.includes("pdsh -R ssh")) {
    const pdsh = med("pdsh -R ssh", "warm");
    const warm = med("troupe (API)", "warm");
    console.log(
      `goal warm: troupe ${s(warm)} at least 2x faster than pdsh over ControlMaster ${s(pdsh)}: ` +
        `${(pdsh / warm).toFixed(2)}x faster ${pdsh >= 2 * warm ? "MET" : "NOT MET"}`,
    );
    if (pdsh < 2 * warm) process.exitCode = 1;
  } else console.log("goal warm: NOT EVALUATED (pdsh could not be run)");
  const rssKind = rssHosts > n ? `cold@${rssHosts}` : "cold";
  const rss = peakRss("troupe exec", rssKind);
  if (Number.isNaN(rss)) console.log("goal memory: NOT EVALUATED (no peak RSS measured)");
  else {
    const ratio = rss / 1024 / RSS_GOAL_MB;
    console.log(
      `goal memory: troupe exec peak RSS ${mb(rss)} < ${RSS_GOAL_MB} MB on ${rssHosts} hosts: ${ratio.toFixed(2)}x ${ratio < 1 ? "MET" : "NOT MET"}`,
    );
    if (ratio >= 1) process.exitCode = 1;
  }
}

try {
  await main();
} catch (err) {
  console.error(`lab-exec: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(deadline);
}
