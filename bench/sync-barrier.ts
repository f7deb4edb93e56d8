// Benchmark (issue 5) of the sync service through its real path (troupe-ctl
// -> relay -> orchestrator and back): N lab hosts (default 50; `--local` for
// local processes) each pass K barriers in a loop (default 100); then one host
// does kv sets as fast as it can. Prints the median and p99 time of a barrier
// round (from one release to the next, as the orchestrator sees it) and kv
// ops/sec from one host. Goals: median under 20 ms, p99 under 100 ms.
//
//   npm run build && node dist/bench/sync-barrier.js [--hosts 50] [--rounds 100] [--kv 200] [--local]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendDriver, Host } from "../src/backends/backend.js";
import { createLabDriver } from "../src/backends/lab/index.js";
import type { HostAssignment } from "../src/exec/job-session.js";
import type { Job } from "../src/model/job.js";
import type { Backend, System } from "../src/model/project.js";
import { buildScript } from "../src/exec/prelude.js";
import { EventStream } from "../src/report/events.js";
import { openSyncSession } from "../src/sync/index.js";
import { LocalTransport } from "../src/transport/local.js";
import { arg, median, percentile } from "./common.js";
import { pool } from "./lab-common.js";

const hosts = Number(arg("--hosts", "50"));
const rounds = Number(arg("--rounds", "100"));
const kvOps = Number(arg("--kv", "200"));
const onLab = !process.argv.includes("--local");

const POS = { file: "bench", line: 1, col: 1 };
const system: System = {
  name: "bench",
  backend: "lab",
  image: "host",
  workers: hosts,
  pos: POS,
  where: {},
  environment: [],
  extra: {},
};
const backend: Backend = {
  name: "lab",
  type: "lab",
  pos: POS,
  where: {},
  environment: [],
  systems: [system],
  extra: {},
};
const runDir = mkdtempSync(join(tmpdir(), "troupe-bench-sync-"));
const driver: BackendDriver | undefined = onLab
  ? createLabDriver(backend, { runDir, projectDir: runDir, remotePath: "/tmp", events: new EventStream() })
  : undefined;
const machines: Host[] = [];

async function cleanUp(): Promise<void> {
  await Promise.all(machines.map((h) => (driver ? driver.discard(h) : h.transport.close()).catch(() => undefined)));
  await driver?.close?.();
  rmSync(runDir, { recursive: true, force: true });
}
process.once("SIGINT", () => {
  console.error("interrupted: discarding the hosts");
  void cleanUp().finally(() => process.exit(130));
});

const t0 = performance.now();
if (driver) {
  await pool(
    Array.from({ length: hosts }, (_, i) => i + 1),
    16,
    async (i) => machines.push(await driver.allocate(system, i)),
  );
} else {
  for (let i = 1; i <= hosts; i++) {
    machines.push({
      name: `local-${i}`,
      address: "127.0.0.1",
      backend: "local",
      system: "bench",
      transport: new LocalTransport({ label: `local-${i}` }),
      projectPath: "/tmp",
    });
  }
}
console.log(`${hosts} ${onLab ? "lab hosts" : "local processes"} up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const assignments: HostAssignment[] = machines.map((host, i) => ({ host, role: "node", index: i + 1, name: `node-${i + 1}` }));
const job = { name: "lab:bench:sync/barrier", environment: [] } as unknown as Job;
const session = await openSyncSession(job, assignments, new AbortController().signal);
let failed = false;

/** Runs `script` as a task's hook runs: the engine's prelude, with the session's variables. */
function run(a: HostAssignment, script: string): Promise<number | null> {
  const text = buildScript({ script, vars: Object.entries(session.env(a)), trace: false });
  return a.host.transport
    .exec({ script: text, onStderr: (b) => process.stderr.write(b), onStdout: (b) => process.stderr.write(b) })
    .then((r) => r.exitCode);
}

try {
  // The orchestrator observes every release of the barrier.
  const releases: number[] = [];
  const watch = (async () => {
    for (let i = 0; i < rounds; i++) {
      await session.sync.barrier("step");
      releases.push(performance.now());
    }
  })();
  const start = performance.now();
  const codes = await Promise.all(
    assignments.map((a) => run(a, `i=0; while [ $i -lt ${rounds} ]; do troupe-ctl barrier step || exit $?; i=$((i+1)); done`)),
  );
  await watch;
  if (codes.some((c) => c !== 0)) throw new Error(`a host failed: ${codes.join(", ")}`);
  const rounds_ = releases.map((t, i) => t - (i === 0 ? start : (releases[i - 1] as number)));
  // The first round includes starting the shells: leave it out.
  const steady = rounds_.slice(1);
  console.log(
    `${hosts} hosts x ${rounds} barriers: median ${median(steady).toFixed(2)} ms, p99 ${percentile(steady, 99).toFixed(2)} ms per round`,
  );
  const slowest = steady
    .map((t, i) => ({ t, round: i + 2 }))
    .sort((a, b) => b.t - a.t)
    .slice(0, 5);
  console.log(`slowest rounds: ${slowest.map((s) => `#${s.round} ${s.t.toFixed(1)} ms`).join(", ")}`);

  const t0 = performance.now();
  const code = await run(
    assignments[0]!,
    `i=0; while [ $i -lt ${kvOps} ]; do troupe-ctl kv set "key $i" "value $i" || exit $?; i=$((i+1)); done`,
  );
  const secs = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`kv loop failed: ${code}`);
  if (session.sync.kv.get(`key ${kvOps - 1}`) !== `value ${kvOps - 1}`) throw new Error("kv: last value missing");
  console.log(`kv set from one host: ${(kvOps / secs).toFixed(0)} ops/s (${kvOps} sequential calls)`);
  const med = median(steady);
  const p99 = percentile(steady, 99);
  const met = med < 20 && p99 < 100;
  console.log(`goal: median < 20 ms and p99 < 100 ms: ${met ? "MET" : "NOT MET"}`);
  failed = !met;
} finally {
  await session.close();
  await cleanUp();
}
if (failed) process.exitCode = 1;
