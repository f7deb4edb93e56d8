// Benchmark (issue 13): four lxd containers through troupe against the real
// Spread binary, on the same project and the same image, in the same run:
// one system with 4 workers and 4 tasks, so each tool launches 4
// containers, runs one task on each and deletes them. Each round runs both
// tools one after the other; the median of the rounds' ratios decides.
// Goal: troupe at most 1.0x Spread's wall time. Exits 1 when missed.
//
//   npm run build && node dist/bench/lxd-spread.js [--spread PATH] [--rounds R]
//
// The Spread binary: --spread, else `spread` on PATH; build it with
// /work/shared/tools/build-spread.sh (Debian's Go, no module downloads).
// The image: the lxd tests' (test/integration/lxd/image.ts), also under the
// system's aliases, so that troupe (by alias) and Spread (by its properties:
// os debian, version 12, architecture amd64, remote images) launch the same
// one. The system is named `debian-12-amd64`, which both tools map to that
// image and no other image on a shared machine claims.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { clientSetup } from "../src/backends/lxd/client.js";
import { aliasImage } from "../test/integration/lxd/image.js";
import { arg, median, printTable, requireTool, troupeBin } from "./common.js";

const GOAL = 1.0;
const rounds = Number(arg("--rounds", "3"));
const spread = arg("--spread", "spread");
const SYSTEM = "debian-12-amd64";
const WORKERS = 4;

requireTool(spread, "build it: /work/shared/tools/build-spread.sh SPREAD_GIT PRETTY_GIT OUT");
const setup = clientSetup();
if (!setup) {
  console.error("bench: lxc is not installed (apt-get install lxd), or LXD is not started (share/engines/start.sh lxd)");
  process.exit(2);
}
aliasImage(SYSTEM);
const env = { ...process.env, ...setup.env, NO_COLOR: "1" };

const dir = mkdtempSync(join(tmpdir(), "troupe-bench-lxd-"));
try {
  writeFileSync(
    join(dir, "spread.yaml"),
    [
      "project: bench",
      "backends:",
      "  lxd:",
      "    systems:",
      `      - ${SYSTEM}:`,
      `          workers: ${WORKERS}`,
      "path: /home/bench",
      "suites:",
      "  tasks/:",
      "    summary: one small task per container",
      "",
    ].join("\n"),
  );
  for (let i = 1; i <= WORKERS; i++) {
    mkdirSync(join(dir, "tasks", `t${i}`), { recursive: true });
    writeFileSync(join(dir, "tasks", `t${i}`, "task.yaml"), 'summary: small\nexecute: |\n  echo "$SPREAD_SYSTEM $(hostname)"\n');
  }
  const run = (what: string, cmd: string, args: string[]): number => {
    const start = process.hrtime.bigint();
    const res = spawnSync(cmd, args, { cwd: dir, env, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const out = `${res.stdout}\n${res.stderr}`;
    if (res.status !== 0 || !out.includes(`Successful tasks: ${WORKERS}`)) throw new Error(`${what} failed (${res.status}):\n${out}`);
    return ms;
  };
  const troupeTimes: number[] = [];
  const spreadTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    troupeTimes.push(run("troupe spread", process.execPath, [troupeBin(), "spread"]));
    spreadTimes.push(run("spread", spread, []));
  }
  printTable(`${WORKERS} lxd containers, one task each, median of ${rounds} rounds`, [
    ["troupe spread (lxd)", median(troupeTimes)],
    ["spread (lxd)", median(spreadTimes)],
  ]);
  const ratios = troupeTimes.map((t, i) => t / spreadTimes[i]!);
  const ratio = median(ratios);
  console.log(
    `ratios by round: ${ratios.map((x) => x.toFixed(2)).join(" ")}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(`ratio troupe/spread: ${ratio.toFixed(2)}x (goal: <= ${GOAL.toFixed(2)}x) ${ratio <= GOAL ? "MET" : "NOT MET"}`);
  if (ratio > GOAL) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
