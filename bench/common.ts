// Small helpers shared by the benchmarks.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The value following `name` on the command line, or a default. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** The checkout's root: the first directory upward with package.json (from bench/ and dist/bench/ alike). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the checkout's package.json");
    dir = up;
  }
  return dir;
}

/** bin/troupe.js of this checkout; it runs the compiled CLI (see ensureBuilt). */
export function troupeBin(): string {
  return join(repoRoot(), "bin", "troupe.js");
}

/**
 * bin/troupe.js runs dist/: when a benchmark runs from source (`npx tsx
 * bench/x.ts`) and some file of src/ or share/ is newer than the build,
 * build first, so that the CLI measured is the code next to it.
 */
export function ensureBuilt(): void {
  const root = repoRoot();
  const built = join(root, "dist", "src", "cli", "main.js");
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return newer(p);
      if (!e.name.endsWith(".ts")) return false;
      const out = join(root, "dist", p.slice(root.length + 1).replace(/\.ts$/, ".js"));
      return !existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs;
    });
  if (builtAt > 0 && !newer(join(root, "src"))) return;
  console.log("bench: dist/ is older than src/: building (npx tsc -p .) ...");
  const r = spawnSync("npx", ["tsc", "-p", "."], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error("bench: the build failed");
    process.exit(2);
  }
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
