// Benchmark (issue 4): `hostname` on N lab hosts, cold (new connections)
// and warm (a second command over connections already open), with troupe
// and with pdsh (-R ssh), parallel-ssh, clush and `ansible -m raw`, on the
// same hosts in the same run. Goals:
//   - troupe cold no slower than the fastest peer cold;
//   - troupe warm at least 2x faster than pdsh over ControlMaster sockets.
//
//   npx tsc -p tsconfig.json && node dist/bench/lab-exec.js [--hosts N] [--rounds R]
//       [--peer-fanout F] [--peer-kex same|default]
//
// Every peer reaches the hosts with `ssh -F <generated config>`, a config
// that includes the lab's own ssh_config (labStatus().sshConfig: the lab
// key and known_hosts). By default it also sets KexAlgorithms
// curve25519-sha256, the key exchange troupe's lab transport asks for: the
// default post-quantum hybrid costs about 3x as much CPU per handshake, and
// comparing troupe with it against peers without it would measure the
// cipher, not the tools. `--peer-kex default` leaves ssh's default to the
// peers (troupe keeps its own).
//
// Peers run with fanout F (default 32, pdsh's and parallel-ssh's own
// default; clush's is 64, ansible's 5); troupe runs with its defaults
// (TROUPE_SSH_HANDSHAKES, if set, is passed on to it).
//
// The lab is `bench` (hosts bench-1..bench-N), brought up at the start and
// removed at the end, also on an error or Ctrl-C. Every command has a time
// limit, and so has the whole run.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fanout, resolveTargets, type FanoutTarget, type HostOutcome } from "../src/api/fanout.js";
import { labDown, labSshClient, labStatus, labUp } from "../src/backends/lab/index.js";
import { arg, ensureBuilt, median, troupeBin } from "./common.js";
import {
  checkHostnames,
  ensureTool,
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
const rounds = Number(arg("--rounds", "3"));
const peerFanout = Number(arg("--peer-fanout", "32"));
const peerKex = arg("--peer-kex", "same");
for (const [name, v] of [
  ["--hosts", n],
  ["--rounds", rounds],
  ["--peer-fanout", peerFanout],
] as const) {
  if (!Number.isInteger(v) || v < 1) usage(`${name} takes a whole number >= 1`);
}
if (n > 250) usage("--hosts: the lab has room for at most 250 hosts");
if (peerKex !== "same" && peerKex !== "default") usage("--peer-kex takes same or default");

const LAB = "bench";
/** What troupe's lab transport asks for (src/backends/lab/driver.ts). */
const TROUPE_LAB_KEX = "curve25519-sha256";
/** One tool's one run over every host. */
const COMMAND_TIMEOUT_MS = 120_000 + n * 1_000;
/** The whole benchmark. */
const DEADLINE_MS = 45 * 60_000;

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
  void cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
}
process.once("SIGINT", interrupted);
process.once("SIGTERM", interrupted);
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
  const hostlist = `${LAB}-[1-${n}]`;
  const hostsFile = join(dir, "hosts");
  writeFileSync(hostsFile, names.join("\n") + "\n");
  const inventory = (cfg: string): string => {
    const file = join(dir, `inventory-${cfg === coldCfg ? "cold" : "warm"}.ini`);
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
  const opts = { cwd: dir, timeoutMs: COMMAND_TIMEOUT_MS };
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

/** The ssh configs of the peers: cold (no sharing) and warm (over the masters). */
function writeSshConfigs(labConfig: string): { coldCfg: string; warmCfg: string; controlPath: string } {
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

/** The times of each tool, cold and warm. */
const times = new Map<string, { cold: number[]; warm: number[] }>();
function record(tool: string, kind: "cold" | "warm", ms: number): void {
  const t = times.get(tool) ?? { cold: [], warm: [] };
  t[kind].push(ms);
  times.set(tool, t);
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

async function troupeCli(names: readonly string[]): Promise<void> {
  const r = await run(process.execPath, [troupeBin(), "exec", `lab:${LAB}`, "--", "hostname"], { timeoutMs: COMMAND_TIMEOUT_MS });
  verify("troupe exec", "cold", r, parsePrefixed(r.stdout), names);
  record("troupe exec", "cold", r.ms);
}

async function main(): Promise<void> {
  ensureBuilt();
  // Install what is missing before the lab is up.
  const missing = new Map<string, string>();
  for (const [program, pkg] of [
    ["pdsh", "pdsh"],
    ["parallel-ssh", "pssh"],
    ["clush", "clustershell"],
    ["ansible", "ansible"],
  ] as const) {
    const why = await ensureTool(program, pkg);
    if (why !== undefined) {
      missing.set(program, why);
      console.log(`${program}: skipped (${why})`);
    }
  }

  const before = (await labStatus()).hosts.filter((h) => h.lab === LAB);
  if (before.length > 0) {
    // Left by an earlier run of this benchmark that could not clean up.
    console.log(`lab ${LAB}: removing ${before.length} hosts left from before`);
    await labDown({ name: LAB });
  }
  let t0 = performance.now();
  const up = await labUp(n, { name: LAB });
  const names = up.labHosts.map((h) => h.name);
  if (names.length !== n) throw new Error(`lab ${LAB} has ${names.length} hosts, not ${n}`);
  console.log(`lab ${LAB}: ${n} hosts up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const { coldCfg, warmCfg, controlPath } = writeSshConfigs(up.sshConfig);
  warmCfgForClose = warmCfg;
  const all = peers(names, coldCfg, warmCfg);
  for (const p of all) p.skipped = missing.get(p.program);
  const measured = all.filter((p) => p.skipped === undefined);

  // What starting node and loading troupe's CLI costs, part of every CLI run.
  const startup = await run(process.execPath, [troupeBin(), "--version"], { timeoutMs: 60_000 });

  // Cold: a new process and new connections for every run; tools take turns.
  for (let r = 0; r < rounds; r++) {
    await troupeCli(names);
    for (const p of measured) {
      const ran = await p.invoke(false);
      verify(p.name, "cold", ran, p.parse(ran.stdout), names);
      record(p.name, "cold", ran.ms);
    }
  }

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
  t0 = performance.now();
  verifyOutcomes("troupe fanout (first)", await fanout(troupeTargets, "hostname"), names);
  const inProcessCold = performance.now() - t0;

  t0 = performance.now();
  await openMasters(names, coldCfg, controlPath);
  const mastersMs = performance.now() - t0;

  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    const results = await fanout(troupeTargets, "hostname");
    record("troupe (API)", "warm", performance.now() - t0);
    verifyOutcomes("troupe fanout (warm)", results, names);
    for (const p of measured) {
      const ran = await p.invoke(true);
      verify(p.name, "warm", ran, p.parse(ran.stdout), names);
      record(p.name, "warm", ran.ms);
    }
  }
  t0 = performance.now();
  await Promise.all(troupeTargets.map((t) => t.transport.close()));
  const closeMs = performance.now() - t0;
  troupeTargets = [];

  report({
    names,
    measured: measured.map((p) => p.name),
    skipped: all.filter((p) => p.skipped),
    startupMs: startup.ms,
    inProcessCold,
    closeMs,
    mastersMs,
  });
}

function report(r: {
  names: readonly string[];
  measured: readonly string[];
  skipped: readonly Peer[];
  startupMs: number;
  inProcessCold: number;
  closeMs: number;
  mastersMs: number;
}): void {
  const s = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
  const med = (tool: string, kind: "cold" | "warm"): number => median(times.get(tool)?.[kind] ?? []);
  const kex = peerKex === "same" ? `peers' KexAlgorithms ${TROUPE_LAB_KEX} like troupe's` : "peers with ssh's default key exchange";
  console.log(
    `\n\`hostname\` on ${n} lab hosts, median of ${rounds} rounds (${kex}; peer fanout ${peerFanout}; TROUPE_SSH_HANDSHAKES=${process.env["TROUPE_SSH_HANDSHAKES"] ?? "default"}; troupe's lab client: ${labSshClient()})`,
  );

  const table = (kind: "cold" | "warm", troupe: string, rows: readonly string[]): void => {
    const t = med(troupe, kind);
    const width = Math.max(...[troupe, ...rows].map((x) => x.length));
    console.log(`${kind}:`);
    console.log(`  ${troupe.padEnd(width)}  ${s(t)}`);
    for (const tool of rows) {
      const p = med(tool, kind);
      console.log(`  ${tool.padEnd(width)}  ${s(p)}   troupe/${tool.split(" ")[0]} ${(t / p).toFixed(2)}x`);
    }
  };
  table("cold", "troupe exec", r.measured);
  table("warm", "troupe (API)", r.measured);
  for (const p of r.skipped) console.log(`  ${p.name}: skipped (${p.skipped})`);
  console.log(
    `troupe phases: node + CLI load ${s(r.startupMs)}; in-process first fanout (connect + command) ${s(r.inProcessCold)}; ` +
      `close ${s(r.closeMs)}; peers' ${n} ControlMasters opened (16 at once) in ${s(r.mastersMs)}`,
  );

  const troupeCold = med("troupe exec", "cold");
  const fastest = r.measured.map((tool) => ({ tool, ms: med(tool, "cold") })).sort((a, b) => a.ms - b.ms)[0];
  if (fastest) {
    console.log(
      `goal cold: troupe ${s(troupeCold)} <= fastest peer (${fastest.tool}) ${s(fastest.ms)}: ` +
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
