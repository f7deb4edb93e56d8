// Running a project: load -> plan -> allocate -> push -> execute -> collect ->
// report. The CLI's `troupe run` and `troupe spread` are thin wrappers over
// runProject(); library users call it directly.

import { randomBytes, randomInt } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { driverFor, effectiveType, loadBackendTypes } from "../backends/registry.js";
import { discardRecorded, ReuseSession, type ReuseOptions } from "../backends/reuse/index.js";
import type { BackendContext, BackendDriver, CloudGuards, Host } from "../backends/backend.js";
import type { Backend } from "../model/project.js";
import { runJobs, type RunModes } from "../exec/index.js";
import type { Job } from "../model/job.js";
import { orderForRun } from "../plan/index.js";
import { attachReporters, shouldColor } from "../report/index.js";
import { killedNotice, noteKilledRuns } from "../runs/killed.js";
import { latestLinkOf, runsDirOf } from "../runs/where.js";
import { artifactsDirOf, type ArtifactLayout } from "../report/artifacts.js";
import { pointLatest } from "../report/latest.js";
import { sourceLocator } from "../report/source-index.js";
import { githubOption } from "../report/reporters/github.js";
import { lastFailed } from "./last-failed.js";
import { EventStream } from "../report/events.js";
import type { SyncSession } from "../sync/index.js";
import { buildProjectBundle, fetchArtifacts } from "../transfer/index.js";
import { HostPool } from "../hosts/pool.js";
import type { JobOutcome } from "../exec/tally.js";
import type { FailedHook } from "../report/events.js";
import { errorText } from "../util/text.js";
import { EXIT, TroupeError } from "../util/errors.js";
import { openProject, planFully } from "./project.js";
import { newRunId } from "./run-id.js";
import { onInterrupt, RUN_WORDS, type Interrupt } from "./interrupt.js";
import { driverWithEvaluatedLogins, withEvaluatedLogins } from "./logins.js";

export interface RunRequest {
  readonly filters?: readonly string[];
  /** Only the jobs that failed or were aborted in the project's last run (`--failed`, pytest's `--lf`), among those the filters select. */
  readonly failedOnly?: boolean;
  /** Say where the run's HTML report (`report.html`, written for every run) is, at the end. */
  readonly html?: boolean;
  /** Keep the run's results in DIR/<run-id>/ (and the newest at DIR/latest) instead of the project's `.troupe/runs/`. */
  readonly resultsDir?: string;
  /** Serve the report live while the run goes on (`--serve`): true for loopback and a free port, or `[ADDR:]PORT`. */
  readonly serve?: string | true;
  /** Where to look for the project (default: the current directory). */
  readonly cwd?: string;
  /** -1 (-q): only failures and the summary; 0: Spread's lines; 1 (-v): also what passed printed; 2 (-vv): everything, live. */
  readonly verbosity?: -1 | 0 | 1 | 2;
  /** At most this many hosts per system at once (`-j`), instead of each system's `workers:`. */
  readonly workers?: number;
  readonly seed?: number;
  readonly repeat?: number;
  readonly artifactsDir?: string;
  /** Run backend NAME with another type: `{ lxd: "local" }`. */
  readonly backendAs?: Readonly<Record<string, string>>;
  readonly junit?: string;
  /** Copy run.json here at the end; "-": print it on stdout (the terminal writer then prints on stderr). */
  readonly json?: string;
  readonly color?: boolean;
  readonly modes?: Partial<RunModes>;
  /** Subscribe to the event stream (the API's way to watch a run). */
  readonly events?: EventStream;
  /** Where the terminal writer prints (default: process.stdout); null: nothing is printed anywhere. */
  readonly out?: (Writable & { isTTY?: boolean }) | null;
  /**
   * Stops the run as a first Ctrl-C does (scripts killed, restores run, hosts
   * discarded). When given, troupe installs no signal handler of its own;
   * without it, SIGINT, SIGTERM and SIGHUP stop the run while it goes on.
   */
  readonly signal?: AbortSignal;
  /** Stops it as a second Ctrl-C does: restores are skipped too (hosts are still discarded). */
  readonly forceSignal?: AbortSignal;
  /** Spread's -reuse, -reuse-pid, -resend and -discard: hosts kept between runs (docs/running.md#reusing-hosts). */
  readonly reuse?: ReuseOptions;
  /** Cloud cost guards (`--max-hosts`, `--max-hours`), over the project's. */
  readonly cloudGuards?: CloudGuards;
  /** Spread's -pass: root's password on the machines backends make (lxd); random by default. */
  readonly password?: string;
  /**
   * Each multi-host job's sync session, once open and before its scripts
   * start: await `session.sync.barrier(...)`, `session.sync.kv.wait(...)` or
   * `session.sync.send(...)` from the orchestrator's side (docs/multihost.md).
   */
  readonly onJobSession?: (job: Job, session: SyncSession) => void;
}

export interface RunResult {
  /** 0 passed, 1 a job or hook failed (or a results file could not be written), 3 machines could not be had, 130 interrupted (see `troupe --help`). */
  readonly exitCode: number;
  readonly runId: string;
  readonly runDir: string;
  readonly seed: number;
  /** Job names by result, sorted. */
  readonly passed: readonly string[];
  readonly failed: readonly string[];
  readonly aborted: readonly string[];
  /** Every job's status, why it failed or was aborted, and how long it took, in the order they ended. */
  readonly jobs: readonly JobOutcome[];
  /** Prepare, restore and artifacts hooks that failed: where, on which host, why. */
  readonly failedHooks: readonly FailedHook[];
  readonly interrupted: boolean;
  readonly durationMs: number;
  /** Results files (run.json, --junit, --json) that could not be written, and why: the exit status is then 1. */
  readonly resultsErrors?: readonly string[];
}

/** Run and return the exit status (for the CLI). */
export async function runProject(request: RunRequest): Promise<number> {
  return (await run(request)).exitCode;
}

export async function run(request: RunRequest): Promise<RunResult> {
  // `--json` alone prints the results on stdout: what people read goes to stderr.
  const out = request.out === undefined ? (request.json === "-" ? process.stderr : process.stdout) : request.out;
  // From the start: an interrupt while planning stops a `$(HOST:cmd)` that hangs.
  // What an interrupt says goes through the terminal writer once it draws
  // (a line written around it would leave part of its status block behind).
  let sayOnTerminal: ((text: string, second: boolean) => void) | undefined;
  const interrupt = onInterrupt({
    signal: request.signal,
    forceSignal: request.forceSignal,
    say: out === null ? null : (text, second) => (sayOnTerminal ? sayOnTerminal(text, second) : void process.stderr.write(text)),
    words: request.reuse?.keep
      ? {
          first: "stopping and restoring; hosts are kept for --reuse (Ctrl-C again to skip restores)",
          second: "skipping restores; hosts are kept",
        }
      : RUN_WORDS,
  });
  try {
    return await runWith(request, out, interrupt, (say) => (sayOnTerminal = say));
  } finally {
    interrupt.dispose();
  }
}

async function runWith(
  request: RunRequest,
  out: (Writable & { isTTY?: boolean }) | null,
  interrupt: Interrupt,
  sayThrough: (say: (text: string, second: boolean) => void) => void,
): Promise<RunResult> {
  const started = Date.now();
  const project = await openProject(request.cwd ? { cwd: request.cwd } : {});
  const planned = await planFully(project, { filters: request.filters ?? [], signal: interrupt.soft });
  const { settings } = planned;
  const runsDir = runsDirOf(project.dir, request.resultsDir);
  const selected = request.failedOnly ? await lastFailed(latestLinkOf(runsDir), planned.jobs) : planned.jobs;
  const jobs = request.workers !== undefined ? withWorkers(selected, request.workers) : selected;
  const discardOnly = request.reuse?.discard === true;
  if (jobs.length === 0 && !(discardOnly && !request.filters?.length)) {
    throw new TroupeError(
      "E_FILTER",
      request.filters?.length ? `nothing matches the filters: ${request.filters.join(" ")}` : "the project has no jobs",
    );
  }
  const backendAs = request.backendAs ?? {};
  const seed = request.seed ?? randomInt(1, 2 ** 31);
  const runId = newRunId();
  const runDir = join(runsDir, runId);
  // Runs killed outright (kill -9) left run.json saying `running`: say so there, and below.
  const killed = await noteKilledRuns(runsDir).catch(() => []);
  await mkdir(runDir, { recursive: true });
  // The newest run's results at .troupe/latest; a link that cannot be made only costs the shortcut.
  await pointLatest(runDir, latestLinkOf(runsDir)).catch(() => undefined);

  const events = request.events ?? new EventStream();
  // The dashboard (and node:http) is loaded only for --serve: 5-15 ms of every other start.
  const live =
    request.serve !== undefined ? await (await import("../serve/index.js")).startDashboard(request.serve, runDir, "run", out) : undefined;
  const reports = attachReporters(events, {
    kind: "run",
    ...(live ? { live } : {}),
    runDir,
    ...(request.junit ? { junit: resolve(request.junit) } : {}),
    ...(request.json ? { json: request.json === "-" ? "-" : resolve(request.json) } : {}),
    ...(request.html ? { html: true } : {}),
    ...(request.artifactsDir ? { artifactsDir: resolve(request.artifactsDir) } : {}),
    verbosity: request.verbosity ?? 0,
    ...(project.flavour === "spread" ? { unprefixedOutput: true, artifactLayout: "spread" as const } : {}),
    tty: !!out?.isTTY,
    color: shouldColor({ tty: !!out?.isTTY, noColorFlag: request.color === false }),
    out,
    err: out === null ? null : process.stderr,
    // Under GitHub Actions: annotations on the step's output and the job summary.
    ...githubOption(out, request.json, { locate: sourceLocator(jobs) }),
  });
  sayThrough((text, second) => events.emit({ type: "interrupt", second, text: text.trim() }));

  for (const id of killed) events.message("warn", killedNotice(id));
  // The code of the backends this run uses (a discard may need any of the project's).
  await loadBackendTypes(discardOnly ? project.backends : jobs.map((j) => j.backend), { backendAs }).catch(async (err: unknown) => {
    // Nothing ran: the reporters (and the live dashboard's server) close all the same.
    await reports.finish();
    throw err;
  });
  // Spread's -pass, else one random password for the whole run, as Spread makes it:
  // root's on the machines backends make, and recorded in the reuse files.
  const password = request.password ?? randomBytes(8).toString("hex");
  let reuse: ReuseSession | undefined;
  let pool: HostPool | undefined;
  const otherTypes = new Map<string, BackendDriver>();
  const result = await (async (): Promise<RunResult> => {
    try {
      reuse = await ReuseSession.open({
        ...request.reuse,
        projectDir: project.dir,
        runDir,
        events,
        signal: interrupt.soft,
        password,
        ...(project.flavour === "spread" ? { spreadFile: true } : {}),
      });
      const session = reuse;
      const context: BackendContext = {
        runDir,
        runId,
        projectDir: project.dir,
        remotePath: project.remotePath,
        events,
        signal: interrupt.hard,
        keepHosts: session.keeping,
        password,
        ...(request.cloudGuards ? { cloudGuards: request.cloudGuards } : {}),
      };
      const hosts = new HostPool({
        events,
        context,
        factory: (backend, ctx) => {
          const evaluated = withEvaluatedLogins(backend, settings.systems);
          return session.wrap(driverWithEvaluatedLogins(driverFor(evaluated, ctx, { backendAs }), backend, settings.systems), evaluated);
        },
      });
      pool = hosts;
      if (discardOnly) {
        // A host goes with the type that made it, even when --backend-as maps its backend elsewhere now.
        const driverOfType = async (backend: Backend, type: string): Promise<BackendDriver> => {
          if (effectiveType(backend, { backendAs }) === type) return session.unwrap(hosts.driver(backend));
          const key = `${backend.name}\0${type}`;
          const known = otherTypes.get(key);
          if (known) return known;
          const as = { backendAs: { ...backendAs, [backend.name]: type } };
          await loadBackendTypes([backend], as);
          const d = driverWithEvaluatedLogins(
            driverFor(withEvaluatedLogins(backend, settings.systems), context, as),
            backend,
            settings.systems,
          );
          otherTypes.set(key, d);
          return d;
        };
        const systems = request.filters?.length ? new Set(jobs.map((j) => `${j.backend.name}:${j.system.name}`)) : undefined;
        const exitCode = await discardRecorded({
          session,
          project,
          driverOf: (b) => hosts.driver(b),
          driverOfType,
          events,
          runId,
          runDir,
          ...(systems ? { systems } : {}),
        });
        return {
          exitCode,
          runId,
          runDir,
          seed,
          passed: [],
          failed: [],
          aborted: [],
          jobs: [],
          failedHooks: [],
          interrupted: false,
          durationMs: Date.now() - started,
        };
      }
      // Fail fast on backends troupe cannot run, or whose engine is not there,
      // before anything is packed or any machine comes up.
      hosts.prepare(jobs.map((j) => j.backend));
      await hosts.check(
        jobs.map((j) => j.backend),
        jobs.map((j) => j.system),
      );

      const bundle = await buildProjectBundle({
        projectDir: project.dir,
        include: settings.include,
        exclude: settings.exclude,
        rename: settings.rename,
        ...(project.repack ? { repack: project.repack } : {}),
        environment: settings.environment,
        outDir: runDir,
      });

      const outcome = await runJobs({
        jobs: orderForRun(jobs, seed),
        seed,
        runId,
        runDir,
        events,
        hosts,
        bundle,
        ...(request.artifactsDir
          ? { fetchArtifacts: artifactFetcher(resolve(request.artifactsDir), project.flavour === "spread" ? "spread" : "portable") }
          : {}),
        // Loaded with the first multi-host job: a run of single-host jobs never loads the sync service.
        jobSession: async (job, hosts, signal) => {
          const { createSyncSessionFactory } = await import("../sync/index.js");
          return createSyncSessionFactory({ events, ...(request.onJobSession ? { onSession: request.onJobSession } : {}) })(
            job,
            hosts,
            signal,
          );
        },
        repeat: request.repeat ?? 0,
        modes: { ...request.modes },
        signal: interrupt.soft,
        hardSignal: interrupt.hard,
      });
      // A failing test wins; jobs left undone because a machine could not be had
      // or reached are exit 3 (infrastructure), not a test failure.
      const exitCode = outcome.interrupted
        ? EXIT.INTERRUPTED
        : outcome.failed.length > 0 || outcome.failedHooks.length > 0
          ? EXIT.FAILED
          : outcome.aborted.length > 0
            ? (outcome.unallocated?.length ?? 0) > 0
              ? EXIT.INFRA
              : EXIT.FAILED
            : EXIT.OK;
      return {
        exitCode,
        runId,
        runDir,
        seed,
        passed: outcome.passed,
        failed: outcome.failed,
        aborted: outcome.aborted,
        jobs: outcome.jobs,
        failedHooks: outcome.failedHooks,
        interrupted: outcome.interrupted,
        durationMs: Date.now() - started,
      };
    } finally {
      // Whatever happened: every host still held is discarded, every driver closed, results written.
      await pool?.close(interrupt.soft.aborted ? "interrupted" : undefined);
      for (const d of otherTypes.values()) await d.close?.().catch((err: unknown) => events.message("error", errorText(err)));
      await reuse?.close().catch((err: unknown) => events.message("error", errorText(err)));
      await reports.finish();
    }
  })();
  // A results file that could not be written fails the run, with the reason (said by the hub).
  if (reports.errors.length === 0 || result.exitCode !== EXIT.OK) return result;
  return { ...result, exitCode: EXIT.FAILED, resultsErrors: reports.errors.map((e) => e.message) };
}

/** `-j N`: every system of the run gets N workers (one system object per system, as planned). */
function withWorkers(jobs: readonly Job[], workers: number): Job[] {
  const systems = new Map<Job["system"], Job["system"]>();
  return jobs.map((j) => {
    let system = systems.get(j.system);
    if (!system) systems.set(j.system, (system = { ...j.system, workers }));
    return { ...j, system };
  });
}

function artifactFetcher(root: string, layout: ArtifactLayout): (job: Job, host: Host, as?: string) => Promise<void> {
  return async (job, host, as) => {
    if (job.task.artifacts.length === 0) return;
    await fetchArtifacts({
      transport: host.transport,
      remoteDir: join(host.projectPath, job.task.name),
      patterns: job.task.artifacts,
      // A multi-host job's hosts each in a folder of their own (`as`, their name in the job).
      destDir: artifactsDirOf(root, job.name, { layout, as }),
    });
  };
}
