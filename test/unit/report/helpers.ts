// Shared helpers for the report tests: a memory stream and a scripted clock.

import { Writable } from "node:stream";
import type { EventInput, TroupeEvent } from "../../../src/report/events.js";
import { ReporterHub } from "../../../src/report/hub.js";
import { HookLogs } from "../../../src/report/reporters/hook-logs.js";
import { RunJsonFile } from "../../../src/report/reporters/run-json.js";
import { TerminalReporter, type TerminalOptions } from "../../../src/report/reporters/terminal.js";
import { toRunJson, type RunJson } from "../../../src/report/run-json.js";

export class Memory extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.chunks.join("");
  }
}

/** 2016-06-02 12:34:56 UTC, the example time in Spread's README. */
export const T0 = Date.UTC(2016, 5, 2, 12, 34, 56);

/** Events with times under test control: `at(5000, {...})` is T0 + 5 s. */
export function at(offsetMs: number, e: EventInput): TroupeEvent {
  return { ...e, time: T0 + offsetMs };
}

export const SERVER = "local:debian-12";
export const JOB_A = "local:debian-12:tests/main/hello";
export const JOB_B = "local:debian-12:tests/main/fail:v1";

/** A run of two single-host jobs on one worker: A passes, B fails in execute. */
export function singleHostRun(): TroupeEvent[] {
  return [
    at(0, { type: "run-started", runId: "r1", dir: "/tmp/x", seed: 42, jobs: 2, workers: 1 }),
    at(0, { type: "host-step", step: "allocating", backend: "local", system: "debian-12" }),
    at(1000, { type: "host-allocated", host: "local-1", backend: "local", system: "debian-12", address: "127.0.0.1" }),
    at(1000, { type: "host-step", step: "sending", backend: "local", system: "debian-12", host: "local-1" }),
    at(2000, { type: "hook-started", job: SERVER, context: SERVER, level: "project", phase: "prepare", host: "local-1" }),
    at(2000, { type: "output", job: SERVER, context: SERVER, phase: "prepare", host: "local-1", stream: "stdout", line: "+ apt update" }),
    at(3000, {
      type: "hook-finished",
      job: SERVER,
      context: SERVER,
      level: "project",
      phase: "prepare",
      host: "local-1",
      exitCode: 0,
      durationMs: 1000,
      output: "+ apt update",
    }),
    at(3000, { type: "job-started", job: JOB_A, hosts: ["local-1"], seq: 1, total: 2 }),
    at(3000, { type: "hook-started", job: JOB_A, context: JOB_A, level: "task", phase: "execute", host: "local-1" }),
    at(3100, { type: "output", job: JOB_A, context: JOB_A, phase: "execute", host: "local-1", stream: "stdout", line: "+ echo hello" }),
    at(3200, { type: "output", job: JOB_A, context: JOB_A, phase: "execute", host: "local-1", stream: "stdout", line: "hello" }),
    at(4000, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "execute",
      host: "local-1",
      exitCode: 0,
      durationMs: 1000,
      output: "+ echo hello\nhello",
    }),
    at(4000, { type: "job-finished", job: JOB_A, status: "passed", durationMs: 1000 }),
    at(4000, { type: "job-started", job: JOB_B, hosts: ["local-1"], seq: 2, total: 2 }),
    at(4000, { type: "hook-started", job: JOB_B, context: JOB_B, level: "task", phase: "execute", host: "local-1" }),
    at(4100, {
      type: "output",
      job: JOB_B,
      context: JOB_B,
      phase: "execute",
      host: "local-1",
      stream: "stdout",
      line: "+ echo 'a <b> & c'",
    }),
    at(4200, { type: "output", job: JOB_B, context: JOB_B, phase: "execute", host: "local-1", stream: "stdout", line: "a <b> & c" }),
    at(4300, { type: "output", job: JOB_B, context: JOB_B, phase: "execute", host: "local-1", stream: "stderr", line: "+ exit 1" }),
    at(5000, {
      type: "hook-finished",
      job: JOB_B,
      context: JOB_B,
      level: "task",
      phase: "execute",
      host: "local-1",
      exitCode: 1,
      durationMs: 1000,
      output: "+ echo 'a <b> & c'\na <b> & c\n+ exit 1\n",
    }),
    at(5000, { type: "hook-started", job: JOB_B, context: JOB_B, level: "task", phase: "restore", host: "local-1" }),
    at(5500, {
      type: "hook-finished",
      job: JOB_B,
      context: JOB_B,
      level: "task",
      phase: "restore",
      host: "local-1",
      exitCode: 0,
      durationMs: 500,
      output: "",
    }),
    at(5500, { type: "job-finished", job: JOB_B, status: "failed", durationMs: 1500 }),
    at(6000, { type: "hook-started", job: SERVER, context: SERVER, level: "project", phase: "restore", host: "local-1" }),
    at(6500, {
      type: "hook-finished",
      job: SERVER,
      context: SERVER,
      level: "project",
      phase: "restore",
      host: "local-1",
      exitCode: 0,
      durationMs: 500,
      output: "",
    }),
    at(7000, { type: "host-discarded", host: "local-1" }),
    at(7000, {
      type: "run-finished",
      passed: [JOB_A],
      failed: [JOB_B],
      aborted: [],
      failedHooks: [],
      durationMs: 7000,
      interrupted: false,
    }),
  ];
}

export const MJOB = "local:debian-12:tests/net/perf";

/** A multi-host job: server passes, client-1 fails, client-2 is killed by the kill-timeout. */
export function multiHostRun(): TroupeEvent[] {
  const hosts = ["server-1", "client-1", "client-2"];
  const ev: TroupeEvent[] = [at(0, { type: "run-started", runId: "r2", dir: "/tmp/y", seed: 7, jobs: 1, workers: 3 })];
  for (const h of hosts) {
    ev.push(
      at(500, { type: "host-allocated", host: h, backend: "local", system: "debian-12", address: "10.0.0." + (hosts.indexOf(h) + 1) }),
    );
  }
  ev.push(at(1000, { type: "job-started", job: MJOB, hosts, seq: 1, total: 1 }));
  for (const h of hosts) {
    ev.push(at(1000, { type: "hook-started", job: MJOB, context: MJOB, level: "task", phase: "execute", host: h }));
  }
  ev.push(at(1100, { type: "output", job: MJOB, context: MJOB, phase: "execute", host: "server-1", stream: "stdout", line: "listening" }));
  ev.push(
    at(1200, { type: "output", job: MJOB, context: MJOB, phase: "execute", host: "client-1", stream: "stdout", line: "connect failed" }),
  );
  ev.push(at(1300, { type: "output", job: MJOB, context: MJOB, phase: "execute", host: "client-2", stream: "stdout", line: "waiting" }));
  ev.push(
    at(2000, {
      type: "hook-finished",
      job: MJOB,
      context: MJOB,
      level: "task",
      phase: "execute",
      host: "client-1",
      exitCode: 2,
      durationMs: 1000,
      output: "connect failed",
    }),
  );
  ev.push(
    at(3000, {
      type: "hook-finished",
      job: MJOB,
      context: MJOB,
      level: "task",
      phase: "execute",
      host: "server-1",
      exitCode: 0,
      durationMs: 2000,
      output: "listening",
    }),
  );
  ev.push(
    at(9000, {
      type: "hook-finished",
      job: MJOB,
      context: MJOB,
      level: "task",
      phase: "execute",
      host: "client-2",
      exitCode: null,
      killedBy: "timeout",
      durationMs: 8000,
      output: "waiting",
    }),
  );
  ev.push(at(9000, { type: "job-finished", job: MJOB, status: "failed", durationMs: 8000 }));
  ev.push(
    at(9500, { type: "run-finished", passed: [], failed: [MJOB], aborted: [], failedHooks: [], durationMs: 9500, interrupted: false }),
  );
  return ev;
}

export const RJOB = "local:debian:s/poison";

/**
 * A multi-host job as the engine reports it: machines play roles (debian-2 is
 * lead, debian-3 peer-1, debian-1 peer-2); lead fails its execute script and
 * the peers' waits are poisoned a moment later (troupe-ctl's 125).
 */
export function rolesRun(): TroupeEvent[] {
  const roles = [
    { host: "debian-2", name: "lead", role: "lead" },
    { host: "debian-3", name: "peer-1", role: "peer" },
    { host: "debian-1", name: "peer-2", role: "peer" },
  ];
  const hosts = roles.map((r) => r.host);
  const ev: TroupeEvent[] = [at(0, { type: "run-started", runId: "r3", dir: "/tmp/z", seed: 3, jobs: 1, workers: 3 })];
  for (const h of ["debian-1", "debian-2", "debian-3"]) {
    ev.push(at(100, { type: "host-allocated", host: h, backend: "local", system: "debian", address: "127.0.0.1" }));
  }
  ev.push(at(1000, { type: "job-started", job: RJOB, hosts, roles, seq: 1, total: 1 }));
  const hook = (t: number, host: string, phase: "prepare" | "execute" | "restore", exitCode?: number | null, output = ""): void => {
    if (exitCode === undefined) {
      ev.push(at(t, { type: "hook-started", job: RJOB, context: RJOB, level: "task", phase, host }));
    } else {
      const error = exitCode === 0 ? {} : { error: `exit status ${exitCode}` };
      ev.push(
        at(t, { type: "hook-finished", job: RJOB, context: RJOB, level: "task", phase, host, exitCode, ...error, durationMs: 500, output }),
      );
    }
  };
  for (const h of hosts) hook(1000, h, "prepare");
  for (const h of hosts) hook(1500, h, "prepare", 0, `prepared ${h}`);
  for (const h of hosts) hook(1500, h, "execute");
  ev.push(
    at(1600, { type: "output", job: RJOB, context: RJOB, phase: "execute", host: "debian-2", stream: "stdout", line: "lead gives up" }),
  );
  ev.push(
    at(1600, {
      type: "output",
      job: RJOB,
      context: RJOB,
      phase: "execute",
      host: "debian-3",
      stream: "stderr",
      line: "troupe-ctl: barrier middle: poisoned",
    }),
  );
  hook(2000, "debian-2", "execute", 1, "lead gives up");
  hook(2010, "debian-3", "execute", 125, "troupe-ctl: barrier middle: poisoned");
  hook(2020, "debian-1", "execute", 125, "troupe-ctl: barrier middle: poisoned");
  for (const h of hosts) hook(2100, h, "restore");
  for (const h of hosts) hook(2200, h, "restore", 0);
  ev.push(
    at(2200, { type: "job-finished", job: RJOB, status: "failed", durationMs: 1200, reason: "execute failed on lead: exit status 1" }),
  );
  ev.push(
    at(2300, { type: "run-finished", passed: [], failed: [RJOB], aborted: [], failedHooks: [], durationMs: 2300, interrupted: false }),
  );
  return ev;
}

/** The results directory of a run, as the CLI writes it: hook logs and run.json, fed event by event. */
export function resultsWriter(o: { runDir: string; rewriteMs?: number; now?: () => number }): {
  handle(e: TroupeEvent): void;
  /** Resolves to run.json as written last. */
  finish(): Promise<RunJson>;
  settled(): Promise<void>;
  readonly errors: Error[];
} {
  const runJson = new RunJsonFile(o.runDir, {
    ...(o.rewriteMs !== undefined ? { rewriteMs: o.rewriteMs } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const hub = new ReporterHub([new HookLogs(o.runDir, o.now), runJson], o.now ? { now: o.now } : {});
  return {
    handle: (e) => hub.handle(e),
    finish: async () => {
      await hub.finish();
      return runJson.last ?? toRunJson(hub.model, (o.now ?? Date.now)());
    },
    settled: () => runJson.settled(),
    errors: hub.errors,
  };
}

/** The terminal reporter, fed event by event. */
export function terminalWriter(o: TerminalOptions): { handle(e: TroupeEvent): void; close(): void; flush(): void } {
  const terminal = new TerminalReporter(o);
  const hub = new ReporterHub([terminal]);
  return { handle: (e) => hub.handle(e), close: () => terminal.close(), flush: () => terminal.flush() };
}
