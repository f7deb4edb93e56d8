// Benchmark (issue 13): 20 docker containers allocated, one command run on
// each, discarded, through troupe (`troupe run` of a project with 20 tasks
// and 20 workers: each worker gets a container, runs its one job and
// removes it) against a shell running `docker run -d` + `docker exec` +
// `docker rm -f` for the 20 at once (`&` and `wait`), in the same run.
// Goal: troupe at most 1.2x the shell loop (median of the rounds' ratios).
//
//   share/engines/start.sh docker      # an engine, unless one runs
//   npx tsc -p tsconfig.json && node dist/bench/docker-20.js [--containers 20] [--rounds 3] [--image IMAGE]
//
// The image (default troupe-test-debian:latest, as the docker tests import
// it) must have `sh` and `tar`. Both sides run the same container: a small
// init (docker-init) running `sleep infinity`. Containers are labelled; any
// left by an interrupted round are removed at the end.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listContainers, removeContainer } from "../src/backends/docker/containers.js";
import { DockerApi } from "../src/backends/docker/engine-api.js";
import { arg, ensureBuilt, median, requireTool, troupeBin } from "./common.js";

const n = Number(arg("--containers", "20"));
const rounds = Number(arg("--rounds", "3"));
const image = arg("--image", "troupe-test-debian:latest");
const GOAL = 1.2;
const LABEL = "troupe-bench=docker-20";

ensureBuilt();
requireTool("docker", "the docker CLI: apt-get install docker.io");
const api = new DockerApi();
process.env["DOCKER_HOST"] = api.display;

const dir = mkdtempSync(join(tmpdir(), "troupe-docker-20-"));

function projectDir(): string {
  const p = join(dir, "project");
  mkdirSync(join(p, "t"), { recursive: true });
  writeFileSync(
    join(p, "troupe.yaml"),
    `project: docker-20\npath: /srv/docker-20\nbackends:\n  docker:\n    systems:\n      - bench:\n          image: ${image}\n          workers: ${n}\nsuites:\n  t/:\n    summary: one command per container\n`,
  );
  for (let i = 1; i <= n; i++) {
    mkdirSync(join(p, "t", `c${i}`), { recursive: true });
    writeFileSync(join(p, "t", `c${i}`, "task.yaml"), "summary: one command\nexecute: hostname\n");
  }
  return p;
}

function timed(what: string, cmd: string, args: readonly string[], cwd?: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) {
    console.error(`docker-20: ${what} failed (${r.status ?? r.signal}):\n${(r.stdout ?? "") + (r.stderr ?? "")}`.slice(-3000));
    process.exit(1);
  }
  return ms;
}

const shellLoop = `
for i in $(seq 1 ${n}); do
  ( name=troupe-bench-$$-$i
    docker run -d --init --label ${LABEL} --name "$name" --entrypoint sleep ${image} infinity >/dev/null &&
    docker exec "$name" hostname >/dev/null &&
    docker rm -f "$name" >/dev/null ) &
done
wait
`;

async function cleanup(): Promise<void> {
  for (const c of await listContainers(api, [LABEL]).catch(() => [])) await removeContainer(api, c.Id).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await api.ping();
  const project = projectDir();
  const ratios: number[] = [];
  const troupeMs: number[] = [];
  const shellMs: number[] = [];
  // A first, untimed round of each warms the engine and the page cache.
  timed("troupe run (warm-up)", process.execPath, [troupeBin(), "run"], project);
  timed("the shell loop (warm-up)", "sh", ["-c", shellLoop]);
  for (let r = 1; r <= rounds; r++) {
    const t = timed("troupe run", process.execPath, [troupeBin(), "run"], project);
    const s = timed("the shell loop", "sh", ["-c", shellLoop]);
    troupeMs.push(t);
    shellMs.push(s);
    ratios.push(t / s);
    console.log(`round ${r}: troupe ${(t / 1000).toFixed(2)} s, shell loop ${(s / 1000).toFixed(2)} s, ratio ${(t / s).toFixed(2)}x`);
  }
  const ratio = median(ratios);
  console.log(
    `${n} containers: troupe ${(median(troupeMs) / 1000).toFixed(2)} s, docker run/exec/rm -f ${(median(shellMs) / 1000).toFixed(2)} s, ` +
      `median ratio ${ratio.toFixed(2)}x (goal <= ${GOAL}x): ${ratio <= GOAL ? "met" : "NOT MET"}`,
  );
  process.exitCode = ratio <= GOAL ? 0 : 1;
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
main()
  .catch((err: unknown) => {
    console.error(`docker-20: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
