// Benchmark (issues 3 and 12): 1,000 trivial tasks on the local backend
// with 2 workers, against GNU parallel running the same 1,000 commands with
// -j2, in the same run, one after the other in each round. Goal (issue 12):
// troupe at most 0.6x GNU parallel. Each round's ratio is printed, and the
// median of them decides: a round pairs the two tools within seconds, so a
// load that comes and goes on a shared machine weighs on both. Exits 1 when
// the goal is missed.
//
// Beside them, for reference: the very script troupe runs for one of these
// tasks (Spread's prelude and the command, under bash, as issue 17 has every
// script run), captured from a run of troupe and run 1,000 times by `xargs
// -P2`, a new bash each, with nothing else around it: what any tool that
// starts a new bash per script pays at least. troupe itself does not: a local
// host's scripts run in subshells forked from one bash per worker
// (src/transport/local-runner.ts). Every line also gives the CPU time of the
// tool and all it started (user + system, from the children's times the
// kernel hands back when they are waited for).
//
//   npm run build && node dist/bench/local-vs-parallel.js [--tasks N] [--rounds R]

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { arg, median, printTable, requireTool, troupeBin } from "./common.js";

const tasks = Number(arg("--tasks", "1000"));
/** Issue 12's goal: troupe at most this many times GNU parallel's time. */
const GOAL = 0.6;
const rounds = Number(arg("--rounds", "5"));
const command = "echo hello";

requireTool("parallel", "apt-get install parallel");

const dir = mkdtempSync(join(tmpdir(), "troupe-bench-"));
const probeDir = mkdtempSync(join(tmpdir(), "troupe-bench-probe-"));
try {
  writeFileSync(
    join(dir, "troupe.yaml"),
    [
      "project: bench",
      "backends:",
      "  local:",
      "    systems:",
      "      - localhost:",
      "          workers: 2",
      "suites:",
      "  tasks/:",
      "    summary: trivial tasks",
      "",
    ].join("\n"),
  );
  for (let i = 0; i < tasks; i++) {
    const t = join(dir, "tasks", `t${String(i).padStart(4, "0")}`);
    mkdirSync(t, { recursive: true });
    writeFileSync(join(t, "task.yaml"), `summary: trivial\nexecute: ${command}\n`);
  }
  const inputs = Array.from({ length: tasks }, (_, i) => String(i));
  const newBashScript = captureScript(probeDir);

  const troupeTimes: number[] = [];
  const parallelTimes: number[] = [];
  const newBashTimes: number[] = [];
  const cpu = { troupe: [] as number[], parallel: [] as number[], newBash: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    troupeTimes.push(
      time(cpu.troupe, () => {
        const res = spawnSync(process.execPath, [troupeBin(), "run", "--project", dir, "--no-color"], { encoding: "utf8" });
        if (res.status !== 0) throw new Error(`troupe run failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
        if (!res.stdout.includes(`Successful tasks: ${tasks}`)) throw new Error(`unexpected troupe summary:\n${res.stdout}`);
      }),
    );
    parallelTimes.push(
      time(cpu.parallel, () => {
        execFileSync("parallel", ["--will-cite", "-j2", `${command} {}`, ":::", ...inputs], { stdio: "ignore" });
      }),
    );
    newBashTimes.push(
      time(cpu.newBash, () => {
        execFileSync("xargs", ["-P2", "-n1", "bash", newBashScript], { input: inputs.join("\n"), stdio: ["pipe", "ignore", "ignore"] });
      }),
    );
  }
  const t = median(troupeTimes);
  const p = median(parallelTimes);
  const f = median(newBashTimes);
  printTable(`${tasks} trivial tasks, 2 workers, median of ${rounds} rounds`, [
    ["troupe run (local, 2 workers)", t],
    ["GNU parallel -j2", p],
    ["troupe's script, a new bash each (xargs -P2)", f],
  ]);
  const cpuText = (xs: number[]): string => `${(median(xs) / 1000).toFixed(2)} s`;
  console.log(
    `CPU (median): troupe ${cpuText(cpu.troupe)}, GNU parallel ${cpuText(cpu.parallel)}, a new bash each ${cpuText(cpu.newBash)}`,
  );
  console.log(`a new bash each / parallel: ${(f / p).toFixed(2)}x (the least a tool that starts a new bash per script costs here)`);
  const ratios = troupeTimes.map((x, i) => x / parallelTimes[i]!);
  const ratio = median(ratios);
  console.log(
    `ratios by round: ${ratios.map((r) => r.toFixed(2)).join(" ")}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(`ratio troupe/parallel: ${ratio.toFixed(2)}x (goal: <= ${GOAL.toFixed(2)}x) ${ratio <= GOAL ? "MET" : "NOT MET"}`);
  if (ratio > GOAL) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(probeDir, { recursive: true, force: true });
}

/** Wall time of `fn` in ms; the CPU time of what it started (and waited for) goes to `cpu`. */
function time(cpu: number[], fn: () => void): number {
  const before = childrenCpuMs();
  const start = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  cpu.push(childrenCpuMs() - before);
  return wall;
}

/** User + system time of this process's waited-for children and theirs (Linux /proc). */
function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "latin1");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

/**
 * The script troupe runs for a task `echo hello` of this project, as a file
 * bash can run anywhere: a one-task run copies its own script ("$0"), whose
 * command line is then put back to `echo hello` and whose `cd` to the run's
 * (then removed) copy of the project becomes `cd /`.
 */
function captureScript(dir: string): string {
  const probe = join(dir, "project");
  const copy = join(dir, "task.sh");
  const capture = `cp "$0" ${copy}`;
  mkdirSync(join(probe, "t", "a"), { recursive: true });
  writeFileSync(
    join(probe, "troupe.yaml"),
    "project: probe\nbackends:\n  local:\n    systems: [localhost]\nsuites:\n  t/:\n    summary: s\n",
  );
  writeFileSync(join(probe, "t", "a", "task.yaml"), `summary: probe\nexecute: ${capture}\n`);
  const res = spawnSync(process.execPath, [troupeBin(), "run", "--project", probe, "--no-color"], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`troupe run of the probe failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  const text = readFileSync(copy, "utf8");
  if (!text.includes(`\n${capture}\n`)) throw new Error(`the probe's script has no line ${capture}:\n${text}`);
  writeFileSync(copy, text.replace(`\n${capture}\n`, `\n${command}\n`).replace(/^cd .*$/m, "cd /"));
  return copy;
}
