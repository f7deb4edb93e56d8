// Shared helpers of the lab integration tests (real hosts: root, Linux, sshd).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend, System } from "../../../src/model/project.js";
import { EventStream } from "../../../src/report/events.js";
import type { BackendContext } from "../../../src/backends/backend.js";
import type { Transport } from "../../../src/transport/transport.js";

const POS = { file: "troupe.yaml", line: 1, col: 1 };

export function system(name: string, more: Partial<System> = {}): System {
  return { name, backend: "lab", image: "host", workers: 1, pos: POS, where: {}, environment: [], extra: {}, ...more };
}

export function backend(systems: System[], more: Partial<Backend> = {}): Backend {
  return { name: "lab", type: "lab", pos: POS, where: {}, environment: [], systems, extra: {}, ...more };
}

export function context(remotePath = "/srv/project"): BackendContext {
  const runDir = mkdtempSync(join(tmpdir(), "troupe-lab-run-"));
  return { runDir, projectDir: runDir, remotePath, events: new EventStream() };
}

/** Run a script; stdout and stderr as text. */
export async function sh(
  t: Transport,
  script: string,
  more: { env?: Record<string, string>; cwd?: string; stdin?: string; signal?: AbortSignal } = {},
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  let out = "";
  let err = "";
  const r = await t.exec({
    script,
    ...more,
    onStdout: (b) => (out += b.toString("utf8")),
    onStderr: (b) => (err += b.toString("utf8")),
  });
  return { code: r.exitCode, signal: r.signal, out, err };
}

/** A command on the real machine. */
export function local(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

export function netnsList(): string[] {
  return local("ip", ["netns", "list"])
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((x) => x !== "");
}

export function linkNames(): string[] {
  return local("ip", ["-o", "link", "show"])
    .split("\n")
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? "")
    .filter((x) => x !== "");
}

export function mounts(): string {
  return readFileSync("/proc/mounts", "utf8");
}

export { processAlive as pidAlive } from "../../support/processes.js";

export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
