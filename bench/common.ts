// Small helpers shared by the benchmarks.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The value following `name` on the command line, or a default. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** bin/troupe.js of this checkout (benchmarks run from dist/bench). */
export function troupeBin(): string {
  return fileURLToPath(new URL("../../bin/troupe.js", import.meta.url));
}

export function requireTool(tool: string, install: string): void {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(`bench: ${tool} is not installed (${install})`);
    process.exit(2);
  }
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export function printTable(title: string, rows: readonly (readonly [string, number])[]): void {
  console.log(title);
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(width)}  ${(ms / 1000).toFixed(3)} s`);
}
