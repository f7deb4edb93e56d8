// `troupe exec --serve`: the live page of `troupe run`, for a command on
// many hosts. Each host's command is a job named for the host, with one
// `execute` hook: its output lines as they come, then its exit status. These
// are the run model's own events, so the dashboard (src/serve/) shows exec as
// it shows a run, with no page of its own. The server serves each host's log
// from a private temporary folder, removed when exec ends.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { HostOutcome } from "../api/fanout.js";
import { newRunId } from "../api/run-id.js";
import { EventStream } from "../report/events.js";
import { ReporterHub } from "../report/hub.js";
import { HookLogs } from "../report/reporters/hook-logs.js";
import { startDashboard } from "../serve/index.js";

const WHERE = { level: "task", phase: "execute" } as const;

export class ExecLive {
  private readonly events = new EventStream();
  private readonly startMs = Date.now();
  private seq = 0;

  private constructor(
    private readonly dir: string,
    private readonly hub: ReporterHub,
    private readonly hosts: readonly string[],
  ) {}

  /** Listen for `--serve`'s value, say the URL on `out`, and show `hosts` waiting. */
  static async start(serve: string | true, hosts: readonly string[], out: Writable | null, workers: number): Promise<ExecLive> {
    const dir = await mkdtemp(join(tmpdir(), "troupe-exec-live-"));
    try {
      const dashboard = await startDashboard(serve, dir, "run", out);
      // Each host's log, in full, where the page links it.
      const hub = new ReporterHub([new HookLogs(dir, Date.now), dashboard]);
      dashboard.watch(hub.model);
      const live = new ExecLive(dir, hub, hosts);
      hub.attach(live.events);
      live.events.emit({ type: "run-started", runId: newRunId(), dir, seed: 0, jobs: hosts.length, workers });
      for (const host of hosts) live.events.emit({ type: "host-allocated", host, backend: "exec", system: "exec", address: host });
      return live;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The command started on `host`. */
  started(host: string): void {
    this.events.emit({ type: "job-started", job: host, hosts: [host], seq: ++this.seq, total: this.hosts.length });
    this.events.emit({ type: "hook-started", job: host, context: host, host, ...WHERE });
  }

  line(host: string, line: string, stream: "stdout" | "stderr", partial: boolean): void {
    this.events.emit({
      type: "output",
      job: host,
      context: host,
      host,
      phase: "execute",
      stream,
      line,
      ...(partial ? { partial } : {}),
    });
  }

  done(r: HostOutcome): void {
    const error = r.error ?? (r.exitCode !== 0 ? `exit status ${r.exitCode}` : undefined);
    this.events.emit({
      type: "hook-finished",
      job: r.name,
      context: r.name,
      host: r.name,
      ...WHERE,
      exitCode: r.exitCode,
      ...(r.timedOut ? { killedBy: "timeout" as const } : {}),
      ...(error ? { error } : {}),
      durationMs: r.durationMs,
      output: r.output,
      ...(r.truncated ? { truncated: true } : {}),
    });
    this.events.emit({
      type: "job-finished",
      job: r.name,
      status: r.exitCode === 0 ? "passed" : "failed",
      durationMs: r.durationMs,
      ...(error ? { reason: error } : {}),
    });
  }

  /** The end: the page says so and the server closes (the folder goes). */
  async finish(results: readonly HostOutcome[], interrupted: boolean): Promise<void> {
    const done = new Set(results.filter((r) => r !== undefined).map((r) => r.name));
    this.events.emit({
      type: "run-finished",
      passed: results.filter((r) => r?.exitCode === 0).map((r) => r.name),
      failed: results.filter((r) => r !== undefined && r.exitCode !== 0).map((r) => r.name),
      aborted: this.hosts.filter((h) => !done.has(h)),
      failedHooks: [],
      durationMs: Date.now() - this.startMs,
      interrupted,
    });
    try {
      await this.hub.finish();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
