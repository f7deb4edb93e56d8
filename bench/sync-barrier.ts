// Benchmark of the sync service through its real path (troupe-ctl -> relay
// -> orchestrator and back): N local hosts each pass K barriers in a loop;
// then one host does kv sets as fast as it can. Prints the median and p99
// time of a barrier round (from one release to the next, as the orchestrator
// sees it) and kv ops/sec from one host.
//
//   npm run build && node dist/bench/sync-barrier.js [--hosts N] [--rounds K] [--kv M]

import type { HostAssignment } from "../src/exec/job-session.js";
import type { Job } from "../src/model/job.js";
import { openSyncSession } from "../src/sync/index.js";
import { LocalTransport } from "../src/transport/local.js";
import { arg, median, percentile } from "./common.js";

const hosts = Number(arg("--hosts", "8"));
const rounds = Number(arg("--rounds", "50"));
const kvOps = Number(arg("--kv", "200"));

const assignments: HostAssignment[] = Array.from({ length: hosts }, (_, i) => {
  const name = `node-${i + 1}`;
  const transport = new LocalTransport({ label: name });
  return {
    host: { name: `local-${i + 1}`, address: "127.0.0.1", backend: "local", system: "bench", transport, projectPath: "/tmp" },
    role: "node",
    index: i + 1,
    name,
  };
});
const job = { name: "local:bench:sync/barrier", environment: [] } as unknown as Job;
const session = await openSyncSession(job, assignments, new AbortController().signal);

function run(a: HostAssignment, script: string): Promise<number | null> {
  const env = session.env(a);
  return a.host.transport
    .exec({ script, env: { ...env, PATH: `${env.PATH}:${process.env.PATH ?? "/usr/bin:/bin"}` }, onStderr: (b) => process.stderr.write(b) })
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
  console.log(`${hosts} hosts x ${rounds} barriers: median ${median(steady).toFixed(2)} ms, p99 ${percentile(steady, 99).toFixed(2)} ms per round`);

  const t0 = performance.now();
  const code = await run(assignments[0]!, `i=0; while [ $i -lt ${kvOps} ]; do troupe-ctl kv set "key $i" "value $i" || exit $?; i=$((i+1)); done`);
  const secs = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`kv loop failed: ${code}`);
  if (session.sync.kv.get(`key ${kvOps - 1}`) !== `value ${kvOps - 1}`) throw new Error("kv: last value missing");
  console.log(`kv set from one host: ${(kvOps / secs).toFixed(0)} ops/s (${kvOps} sequential calls)`);
} finally {
  await session.close();
  for (const a of assignments) await a.host.transport.close();
}
