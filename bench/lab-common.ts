// Helpers for the benchmarks that drive lab hosts with other programs
// (pdsh, parallel-ssh, clush, ansible): running a program with a time limit,
// installing a missing one, a bounded pool, and reading which hostnames each
// program printed.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to the program's exit with its output closed. */
  readonly ms: number;
  /** With `rss`: the program's peak resident set (its largest process's, of those it waited for), in KiB. */
  readonly maxRssKb?: number;
}

/** GNU time, which reports a program's peak RSS (wait4's ru_maxrss). */
export const GNU_TIME = "/usr/bin/time";

/** Children running now, so that an interrupt can end them (and only them). */
const running = new Set<ChildProcess>();

/**
 * Run `cmd` with a time limit (SIGKILL after `timeoutMs`); never rejects.
 * `rss`: through GNU time, writing the peak RSS to that file (read into
 * `maxRssKb`); GNU time adds a fork and an exec (about a millisecond).
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; untilExit?: boolean; rss?: string } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const start = performance.now();
    const [file, argv] = opts.rss !== undefined ? [GNU_TIME, ["-o", opts.rss, "-f", "%M", cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs} ms)\n`;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 300_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: null, signal: null, stdout, stderr: stderr + err.message, ms: performance.now() - start });
    });
    // `untilExit`: for programs that leave a daemon holding their output
    // open (`ssh -f`), the program's own exit is the end.
    child.once(opts.untilExit ? "exit" : "close", (code: number | null, signal: NodeJS.Signals | null) => {
      const ms = performance.now() - start;
      clearTimeout(timer);
      running.delete(child);
      // Whatever the program wrote before it exited has arrived by the next turn.
      setImmediate(() => {
        if (opts.untilExit) {
          child.stdout.destroy();
          child.stderr.destroy();
        }
        const rss = opts.rss !== undefined ? readRss(opts.rss) : undefined;
        resolve({ code, signal, stdout, stderr, ms, ...(rss !== undefined ? { maxRssKb: rss } : {}) });
      });
    });
  });
}

/** The last line of GNU time's -o file: %M, KiB. */
function readRss(file: string): number | undefined {
  try {
    const kb = Number(readFileSync(file, "utf8").trim().split("\n").at(-1));
    return Number.isFinite(kb) && kb > 0 ? kb : undefined;
  } catch {
    return undefined;
  }
}

/** Kill the children `run` started that still run (on an interrupt). */
export function killRunning(): void {
  for (const c of running) {
    try {
      c.kill("SIGKILL");
    } catch {
      /* gone already */
    }
  }
}

export function haveTool(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

/**
 * Make sure `tool` is installed, with `apt-get install -y PKG` if not.
 * Resolves to undefined when it is there, or to why it is not.
 */
export async function ensureTool(tool: string, pkg: string): Promise<string | undefined> {
  if (haveTool(tool)) return undefined;
  console.log(`${tool} is not installed: apt-get install -y ${pkg} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let r = await run("apt-get", ["install", "-y", "--no-install-recommends", pkg], { env, timeoutMs: 600_000 });
  if (r.code !== 0 && /Unable to locate|no installation candidate|Failed to fetch/i.test(r.stderr + r.stdout)) {
    // An old or missing package list: refresh it once and try again.
    await run("apt-get", ["update"], { env, timeoutMs: 300_000 });
    r = await run("apt-get", ["install", "-y", "--no-install-recommends", pkg], { env, timeoutMs: 600_000 });
  }
  if (haveTool(tool)) return undefined;
  const why = lastLines(r.stderr || r.stdout, 3) || `apt-get exited with status ${r.code ?? r.signal}`;
  return `apt-get install ${pkg} failed: ${why}`;
}

/** Run `fn` on every item, at most `width` at once. */
export async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  return out;
}

/** A line of output attributed to a host: `label` printed `value`. */
export interface HostLine {
  readonly label: string;
  readonly value: string;
}

/** `host: line` (troupe exec, pdsh, clush; troupe pads the host name). */
export function parsePrefixed(stdout: string): HostLine[] {
  const out: HostLine[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(\S+?)\s*: (.*)$/.exec(line.replace(/\r$/, ""));
    if (m) out.push({ label: m[1]!, value: m[2]! });
  }
  return out;
}

/** parallel-ssh -i: `[1] 12:00:00 [SUCCESS] host` followed by the host's output. */
export function parsePssh(stdout: string): HostLine[] {
  const out: HostLine[] = [];
  let label: string | undefined;
  for (const raw of stdout.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const head = /^\[\d+\] \S+ \[(\w+)\] (\S+)/.exec(line);
    if (head) {
      label = head[1] === "SUCCESS" ? head[2]! : undefined;
      continue;
    }
    if (label !== undefined && line !== "") out.push({ label, value: line });
  }
  return out;
}

/**
 * ansible -o: `host | CHANGED | rc=0 | (stdout) out` with the output's
 * newlines written as `\n` (raw runs the command on a tty, hence `\r\n`).
 */
export function parseAnsibleOneline(stdout: string): HostLine[] {
  const out: HostLine[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(\S+) \| (?:CHANGED|SUCCESS) \| rc=0 \| \(stdout\) (.*)$/.exec(line.replace(/\r$/, ""));
    if (!m) continue;
    const first = m[2]!.split(/\\r\\n|\\n|\\r/).find((s) => s.trim() !== "");
    if (first !== undefined) out.push({ label: m[1]!, value: first.trim() });
  }
  return out;
}

/**
 * Each host printed its own hostname exactly once: the values are the
 * expected names, one each, and each came from the host it names. Returns
 * what is wrong, or undefined.
 */
export function checkHostnames(lines: readonly HostLine[], names: readonly string[]): string | undefined {
  const want = new Set(names);
  const seen = new Map<string, number>();
  const wrong: string[] = [];
  for (const { label, value } of lines) {
    if (!want.has(value)) {
      wrong.push(`${label} printed "${value}"`);
      continue;
    }
    if (label !== value) wrong.push(`${label} printed "${value}"`);
    seen.set(value, (seen.get(value) ?? 0) + 1);
  }
  const missing = names.filter((n) => !seen.has(n));
  const twice = [...seen].filter(([, k]) => k > 1).map(([n]) => n);
  if (missing.length === 0 && twice.length === 0 && wrong.length === 0 && lines.length === names.length) return undefined;
  const parts = [`${seen.size} of ${names.length} hostnames`];
  if (missing.length) parts.push(`missing ${sample(missing)}`);
  if (twice.length) parts.push(`twice ${sample(twice)}`);
  if (wrong.length) parts.push(`unexpected: ${sample(wrong)}`);
  return parts.join("; ");
}

function sample(xs: readonly string[]): string {
  return xs.length <= 5 ? xs.join(", ") : `${xs.slice(0, 5).join(", ")} and ${xs.length - 5} more`;
}

export function lastLines(text: string, n: number): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(-n)
    .join(" | ");
}
