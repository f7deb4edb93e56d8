// Benchmark (issues 3 and 12): 1,000 trivial tasks on the local backend
// with 2 workers, against GNU parallel running the same 1,000 commands with
// -j2, in the same run, one after the other in each round. Goal (issue 12):
// troupe at most 0.6x GNU parallel. Each round's ratio is printed, and the
// median of them decides: a round pairs the two tools within seconds, so a
// load that comes and goes on a shared machine weighs on both. Exits 1 when
// the goal is missed.
//
//   npm run build && node dist/bench/local-vs-parallel.js [--tasks N] [--rounds R]

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { arg, median, printTable, requireTool, troupeBin } from "./common.js";

const tasks = Number(arg("--tasks", "1000"));
/** Issue 12's goal: troupe at most this many times GNU parallel's time. */
const GOAL = 0.6;
const rounds = Number(arg("--rounds", "3"));
const command = "echo hello";

requireTool("parallel", "apt-get install parallel");

const dir = mkdtempSync(join(tmpdir(), "troupe-bench-"));
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

  const troupeTimes: number[] = [];
  const parallelTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    troupeTimes.push(
      time(() => {
        const res = spawnSync(process.execPath, [troupeBin(), "run", "--project", dir, "--no-color"], { encoding: "utf8" });
        if (res.status !== 0) throw new Error(`troupe run failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
        if (!res.stdout.includes(`Successful tasks: ${tasks}`)) throw new Error(`unexpected troupe summary:\n${res.stdout}`);
      }),
    );
    parallelTimes.push(
      time(() => {
        execFileSync("parallel", ["--will-cite", "-j2", `${command} {}`, ":::", ...inputs], { stdio: "ignore" });
      }),
    );
  }
  const t = median(troupeTimes);
  const p = median(parallelTimes);
  printTable(`${tasks} trivial tasks, 2 workers, median of ${rounds} rounds`, [
    ["troupe run (local, 2 workers)", t],
    ["GNU parallel -j2", p],
  ]);
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
}

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
