// Drive the `troupe` CLI as a user would: a real process, real files.

import { spawnSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** bin/troupe.js of this checkout (tests run from dist/test/...). */
export const TROUPE = fileURLToPath(new URL("../../../../bin/troupe.js", import.meta.url));
export const REPO = dirname(dirname(TROUPE));

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The troupe process's pid: lab host records name it as their owner. */
  readonly pid: number;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

export function troupe(args: readonly string[], options: RunOptions = {}): Result {
  const r = spawnSync(process.execPath, [TROUPE, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

export function troupeAsync(args: readonly string[], options: RunOptions = {}): ChildProcess {
  return spawn(process.execPath, [TROUPE, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * A private TMPDIR for one troupe process: its ssh control sockets live
 * there, so its ssh masters are the processes whose command line names it.
 */
export function privateTmp(): string {
  return mkdtempSync("/tmp/tt-");
}

/**
 * What one troupe process left of the lab: host records it owns (a record is
 * removed last, after the host's namespaces, links, mounts and processes) and
 * ssh masters started from its TMPDIR. Other tests may be using the lab at the
 * same time, so nothing else on the machine is looked at.
 */
export function labLeftovers(pid: number, tmp: string): string[] {
  const left: string[] = [];
  const hosts = "/run/troupe-lab/hosts";
  for (const name of existsSync(hosts) ? readdirSync(hosts) : []) {
    if (!name.endsWith(".json")) continue;
    try {
      const rec = JSON.parse(readFileSync(join(hosts, name), "utf8")) as { owner?: { pid?: number }; name?: string; netns?: string };
      if (rec.owner?.pid === pid) left.push(`lab host ${rec.name} (${rec.netns})`);
    } catch {
      // removed while being read: not left behind
    }
  }
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    let args: string;
    try {
      args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
      continue;
    }
    if (args.startsWith("ssh ") && args.includes(tmp + "/")) left.push(`ssh process ${p}: ${args}`);
  }
  return left;
}

/** A project in a new temporary directory, from `path -> content`. */
export function project(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-it-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Lines of output without Spread's timestamp prefix. */
export function lines(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ""));
}
