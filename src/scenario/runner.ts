// Running a scenario plan: allocate every host (any backend troupe has),
// start one sync session for them (troupe-ctl), run the stages in order,
// and always clean up: services stopped, sync session closed, hosts
// discarded, also on failure and Ctrl-C. Everything is reported through the
// event stream.
//
// Stages: a stage picks hosts by regular expressions (rendered with the
// latest vars), runs them at once (default) or one after the other; each
// host runs the stage's jobs one after the other (default) or at once; a job
// runs its items one after the other (default) or at once. A stage ends when
// all its hosts are done. The first failure that is not ignored stops the
// scenario: running steps are killed, no later stage starts.

import { setMaxListeners } from "node:events";
import type { CloudGuards } from "../backends/backend.js";
import { driverFor, loadBackendTypes } from "../backends/registry.js";
import { HostPool } from "../hosts/pool.js";
import { mapLimit } from "../util/limit.js";
import type { HostAssignment } from "../exec/job-session.js";
import { assignmentVars } from "../exec/host-vars.js";
import type { Job } from "../model/job.js";
import type { EventStream, ScenarioFailure, StepKind } from "../report/events.js";
import { openSyncSession, type SyncSession } from "../sync/session.js";
import { EXIT, exitCodeFor, isTroupeError, TroupeError } from "../util/errors.js";
import { expandItems, showItem } from "./items.js";
import { declaredServices } from "./plan.js";
import { ScenarioMetrics } from "./prometheus.js";
import { scenarioMachines } from "./prometheus-plan.js";
import { selectHosts, type Captures } from "./select.js";
import { ServiceSet } from "./services.js";
import { resolveServiceUris, runStep, type LiveHost, type StepEnv } from "./steps.js";
import { renderTemplate } from "./template.js";
import type { PlannedHost, PlannedJob, PlannedStage, ScenarioPlan, Value } from "./types.js";
import { uriPattern } from "./uris.js";
import { applyUpdates, snapshot, stepResult, type Vars } from "./vars.js";
import { errorText } from "../util/text.js";

/** Past this many hosts, scripts do not get every host's address as TROUPE_HOST_ADDR_* (`troupe-ctl addr` has them). */
const MAX_ADDR_VARS = 256;

export interface RunScenarioOptions {
  readonly plan: ScenarioPlan;
  readonly runId: string;
  /** The run's results directory, `.troupe/runs/<id>`. */
  readonly runDir: string;
  readonly events: EventStream;
  /** Run backend NAME with another type: `{ lab: "local" }`. */
  readonly backendAs?: Readonly<Record<string, string>>;
  /** Cloud cost guards for the drivers (`--max-hosts`, `--max-hours`). */
  readonly cloudGuards?: CloudGuards;
  /** Stages with ask_confirmation wait for this (the CLI: Enter on the terminal). Without it, they go on. */
  readonly confirm?: (stage: string) => Promise<void>;
  /** Stop: kill running steps, stop services, discard hosts (a first Ctrl-C). */
  readonly signal: AbortSignal;
  /** troupe's share/ dir (troupe-ctl), when not next to the package. */
  readonly shareDir?: string;
  /** The prometheus binary for the prometheus: section (default: prometheus in PATH). */
  readonly prometheusBinary?: string;
}

export interface ScenarioOutcome {
  readonly status: "passed" | "failed" | "interrupted" | "error";
  readonly exitCode: number;
  readonly failure?: ScenarioFailure;
  readonly error?: TroupeError;
  readonly vars: Vars;
  readonly durationMs: number;
}

export async function runScenario(o: RunScenarioOptions): Promise<ScenarioOutcome> {
  const { plan, events } = o;
  const started = Date.now();
  const stop = new AbortController();
  // Every running step and allocation listens to it, one listener each, removed when it ends:
  // as many as the hosts at once, which is no leak (Node warns past 10).
  setMaxListeners(0, stop.signal);
  let interrupted = false;
  const onStop = (): void => {
    interrupted = true;
    stop.abort();
  };
  if (o.signal.aborted) onStop();
  else o.signal.addEventListener("abort", onStop, { once: true });

  const vars: Vars = snapshot(plan.vars);
  let failure: ScenarioFailure | undefined;
  let error: TroupeError | undefined;
  const fail = (f: ScenarioFailure): void => {
    if (failure || interrupted) return;
    failure = f;
    stop.abort();
  };

  const origins = new Map<string, { stage: PlannedStage; job: string; item?: string; ignore: boolean }>();
  const services = new ServiceSet(events, (host, service, reason, output) => {
    const origin = origins.get(`${host}\0${service}`);
    if (!origin || origin.ignore) {
      events.message("warn", `service ${service} on ${host} exited: ${reason}`);
      return;
    }
    fail({
      stage: origin.stage.name,
      stageIndex: origin.stage.index + 1,
      job: origin.job,
      host,
      ...(origin.item !== undefined ? { item: origin.item } : {}),
      reason: `service ${service} exited before the end of the scenario: ${reason}`,
      output,
    });
  });
  const live = new Map<string, LiveHost>();
  const metrics = new ScenarioMetrics(plan.prometheus, o.runDir, events, stop.signal, o.prometheusBinary, (n) => live.get(n)?.host);
  // The scenario's hosts, and Prometheus' own host when it has one (no stage picks that one).
  const machines = scenarioMachines(plan);
  const pool = new HostPool({
    events,
    context: {
      runDir: o.runDir,
      runId: o.runId,
      projectDir: plan.baseDir,
      remotePath: `/tmp/troupe-play-${o.runId}`,
      events,
      signal: stop.signal,
      ...(o.cloudGuards ? { cloudGuards: o.cloudGuards } : {}),
    },
    factory: (backend, ctx) => driverFor(backend, ctx, o.backendAs ? { backendAs: o.backendAs } : {}),
  });
  let session: SyncSession | undefined;
  let env: StepEnv | undefined;

  events.emit({
    type: "scenario-started",
    runId: o.runId,
    dir: o.runDir,
    scenario: plan.name,
    ...(plan.file ? { file: plan.file } : {}),
    hosts: plan.hosts.map((h) => h.name),
    stages: plan.stages.length,
  });

  try {
    // Drivers first: a backend troupe cannot run fails before any host comes up.
    await loadBackendTypes(
      machines.map((h) => h.backend),
      o.backendAs ? { backendAs: o.backendAs } : {},
    );
    pool.prepare(machines.map((h) => h.backend));
    await pool.check(
      machines.map((h) => h.backend),
      machines.map((h) => h.system),
    );
    metrics.check();

    if (plan.dialect === "octogram") {
      events.message(
        "info",
        "an Octogram recipe: troupe runs its jobs over SSH itself, so no agent binary goes to the hosts (octogram_binary is not used)",
      );
    }
    await allocateAll(machines, pool, live, stop.signal);
    if (stop.signal.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted while allocating hosts");
    separateDirectories(live);
    await metrics.start();

    const ordered = plan.hosts.map((h) => live.get(h.name)!);
    // openSyncSession reads only the job's name when `ports` is given (src/sync/session.ts):
    // a scenario is not a Job of the test matrix, so a name is all it can give.
    const syncJob = { name: `scenario ${plan.name}` } as unknown as Job;
    // The session ends with the scenario (cleanup closes it); only an interrupt poisons it early.
    session = await openSyncSession(
      syncJob,
      ordered.map((l) => l.assignment),
      o.signal,
      { events, ports: [], ...(o.shareDir ? { shareDir: o.shareDir } : {}) },
    );

    env = stepEnv(o, live, ordered, services, origins, session);
    for (const stage of plan.stages) {
      if (stop.signal.aborted) break;
      await runStage(stage);
      await metrics.sync(services.metricsTargets());
    }
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    if (e.code === "E_INTERRUPTED") interrupted = true;
    else error = e;
  } finally {
    o.signal.removeEventListener("abort", onStop);
    await cleanup();
  }

  const status = interrupted ? "interrupted" : error ? "error" : failure ? "failed" : "passed";
  // Errors outside steps: hosts not had (3), a backend troupe cannot run or misconfigured (2, before any host).
  const exitCode = interrupted ? EXIT.INTERRUPTED : error ? exitCodeFor(error) : failure ? EXIT.FAILED : EXIT.OK;
  const durationMs = Date.now() - started;
  events.emit({
    type: "scenario-finished",
    status,
    exitCode,
    durationMs,
    ...(failure && !interrupted ? { failure } : {}),
    ...(error ? { error: error.message } : {}),
    vars,
  });
  return { status, exitCode, ...(failure ? { failure } : {}), ...(error ? { error } : {}), vars, durationMs };

  // ------------------------------------------------------------------ stages

  function prometheusScope(): { prometheus?: { url: string; dir: string } } {
    const p = metrics.scope();
    return p ? { prometheus: p } : {};
  }

  async function runStage(stage: PlannedStage): Promise<void> {
    const t0 = Date.now();
    const total = plan.stages.length;
    const scope = {
      vars,
      hosts: hostsScope(live),
      run: { id: o.runId, dir: o.runDir },
      scenario: scenarioScope(plan),
      ...prometheusScope(),
      stage: { name: stage.name, index: stage.index + 1, hosts: [] },
    };
    let patterns: string[];
    let selected: { host: LiveHost; re: Captures }[];
    try {
      patterns = stage.withHosts.map((t) => renderTemplate(t, scope, { stage: stage.name }));
      selected = selectHosts([...plan.hosts.map((h) => live.get(h.name)!)], patterns, stage.match);
    } catch (e) {
      fail({ stage: stage.name, stageIndex: stage.index + 1, job: "", host: "", reason: errorText(e) });
      return;
    }
    if (selected.length === 0) {
      events.message(
        "warn",
        `stage ${stage.index + 1}/${total} "${stage.name}" selects no host (with_hosts: ${patterns.join(", ")}); skipped`,
      );
      return;
    }
    if (stage.askConfirmation) {
      if (!o.confirm) events.message("info", `stage "${stage.name}" asks for confirmation: going on (--yes)`);
      else await untilStopped(o.confirm(stage.name), stop.signal);
      if (stop.signal.aborted) return;
    }
    events.emit({ type: "stage-started", stage: stage.name, index: stage.index + 1, total, hosts: selected.map((s) => s.host.name) });
    const failedBefore = failure;
    const names = selected.map((s) => s.host.name);
    await inMode(stage.runHosts, selected, (s) => runHost(stage, s.host, s.re, names));
    events.emit({
      type: "stage-finished",
      stage: stage.name,
      index: stage.index + 1,
      status: failure && !failedBefore && failure.stageIndex === stage.index + 1 ? "failed" : stop.signal.aborted ? "stopped" : "passed",
      durationMs: Date.now() - t0,
    });
  }

  async function runHost(stage: PlannedStage, host: LiveHost, re: Captures, names: readonly string[]): Promise<void> {
    await inMode(stage.runJobs, stage.jobs, (job) => runJob(stage, host, re, job, names));
  }

  async function runJob(stage: PlannedStage, host: LiveHost, re: Captures, job: PlannedJob, names: readonly string[]): Promise<void> {
    if (stop.signal.aborted) return;
    // The job's copy of the variables, taken as it starts (Octogram's rule).
    const base = {
      vars: snapshot(vars),
      host: hostScope(host),
      agent: { name: host.name },
      hosts: hostsScope(live),
      re,
      run: { id: o.runId, dir: o.runDir },
      stage: { name: stage.name, index: stage.index + 1, hosts: [...names] },
      scenario: scenarioScope(plan),
      ...prometheusScope(),
      job: { name: job.name.text },
    };
    let items: Value[];
    try {
      items = expandItems(job.items, base, { stage: stage.name, job: shorten(job.name.text), host: host.name });
    } catch (e) {
      stepFailedEarly(stage, job, host, e);
      return;
    }
    await inMode(job.runItems, items, (item) => runItem(stage, host, job, base, item));
  }

  async function runItem(stage: PlannedStage, host: LiveHost, job: PlannedJob, base: Record<string, unknown>, item: Value): Promise<void> {
    if (stop.signal.aborted) return;
    const itemShown = job.items ? showItem(item) : undefined;
    const scope = { ...base, item };
    const kind: StepKind = job.body.kind;
    let name: string;
    try {
      name = renderTemplate(job.name, scope, { stage: stage.name, job: shorten(job.name.text), host: host.name });
      if (job.autoName) name = shorten(name);
    } catch (e) {
      stepFailedEarly(stage, job, host, e, itemShown);
      return;
    }
    const ids = {
      stage: stage.name,
      stageIndex: stage.index + 1,
      job: name,
      jobIndex: job.index,
      kind,
      host: host.name,
      ...(itemShown !== undefined ? { item: itemShown } : {}),
    };
    events.emit({ type: "step-started", ...ids });
    const t0 = Date.now();
    const outcome = await runStep({
      env: env!,
      stage,
      job,
      host,
      name,
      item,
      ...(itemShown !== undefined ? { itemShown } : {}),
      scope: { ...scope, job: { name } },
      signal: stop.signal,
    });
    let status: "passed" | "failed" | "ignored" | "stopped" = outcome.ok
      ? "passed"
      : outcome.stopped
        ? "stopped"
        : job.ignoreFailure
          ? "ignored"
          : "failed";
    let reason = outcome.error;
    if ((status === "passed" || status === "ignored") && job.varsUpdates.length > 0) {
      try {
        const where = { stage: stage.name, job: name, host: host.name };
        const changes = applyUpdates(vars, job.varsUpdates, { ...scope, job: { name }, res: stepResult(outcome.result) }, where, (text) =>
          resolveServiceUris(env!, host.name, text, where),
        );
        events.emit({ type: "vars-updated", stage: stage.name, job: name, host: host.name, changes });
      } catch (e) {
        status = "failed";
        reason = errorText(e);
      }
    }
    events.emit({
      type: "step-finished",
      ...ids,
      status,
      exitCode: outcome.exitCode,
      ...(reason !== undefined && status !== "passed" ? { error: reason } : {}),
      durationMs: Date.now() - t0,
      output: outcome.output,
    });
    if (status === "failed") fail({ ...idsFailure(ids), reason: reason ?? "failed", output: outcome.output });
  }

  function idsFailure(ids: {
    stage: string;
    stageIndex: number;
    job: string;
    host: string;
    item?: string;
  }): Omit<ScenarioFailure, "reason"> {
    return {
      stage: ids.stage,
      stageIndex: ids.stageIndex,
      job: ids.job,
      host: ids.host,
      ...(ids.item !== undefined ? { item: ids.item } : {}),
    };
  }

  /** A job that could not even start a step (its items or name did not render). */
  function stepFailedEarly(stage: PlannedStage, job: PlannedJob, host: LiveHost, e: unknown, item?: string): void {
    const reason = errorText(e);
    const ids = {
      stage: stage.name,
      stageIndex: stage.index + 1,
      job: shorten(job.name.text),
      jobIndex: job.index,
      kind: job.body.kind,
      host: host.name,
      ...(item !== undefined ? { item } : {}),
    };
    events.emit({ type: "step-started", ...ids });
    const status = job.ignoreFailure ? "ignored" : "failed";
    events.emit({ type: "step-finished", ...ids, status, exitCode: null, error: reason, durationMs: 0, output: "" });
    if (status === "failed") fail({ ...idsFailure(ids), reason });
  }

  async function cleanup(): Promise<void> {
    stop.abort();
    await services.stopAll().catch(() => undefined);
    await metrics.stop().catch((e: unknown) => events.message("warn", `prometheus: ${String(e)}`));
    await session?.close().catch(() => undefined);
    await pool.close();
  }
}

function stepEnv(
  o: RunScenarioOptions,
  live: ReadonlyMap<string, LiveHost>,
  ordered: readonly LiveHost[],
  services: ServiceSet,
  origins: Map<string, { stage: PlannedStage; job: string; item?: string; ignore: boolean }>,
  session: SyncSession | undefined,
): StepEnv {
  const { plan } = o;
  const declared = declaredServices(plan);
  const assignments = ordered.map((l) => l.assignment);
  const addrs = ordered.length <= MAX_ADDR_VARS;
  const env: StepEnv = {
    events: o.events,
    hosts: live,
    baseDir: plan.baseDir,
    runDir: o.runDir,
    keptLogs: new Set(),
    runSignal: o.signal,
    services,
    serviceLookup: {
      endpoint: (host, service) => services.endpoint(host, service),
      running: (host) => services.running(host),
      declared: (service) => declared.has(service),
    },
    uriPattern: uriPattern(ordered.map((l) => l.name)),
    session,
    commonVars: [
      ["TROUPE_SCENARIO", plan.name],
      ["TROUPE_RUN_ID", o.runId],
    ],
    hostVars(host) {
      const all = assignmentVars(host.assignment, assignments).filter(([k]) => addrs || !k.startsWith("TROUPE_HOST_ADDR_"));
      return [
        ...all,
        ["TROUPE_GROUPS", host.plan.groups.join(" ")],
        ["TROUPE_BACKEND", host.plan.backend.name],
        ["TROUPE_SYSTEM", host.plan.system.name],
        ["TROUPE_DIR", host.dir],
        ...Object.entries(session?.env(host.assignment) ?? {}),
      ];
    },
    pluginState: new Map(),
    served: new Map(),
    serviceOrigin(host, service, origin) {
      origins.set(`${host}\0${service}`, origin);
    },
  };
  return env;
}

/** Allocate every host of the scenario; the first failure stops the others and is thrown (the pool discards what came up). */
async function allocateAll(hosts: readonly PlannedHost[], pool: HostPool, live: Map<string, LiveHost>, signal: AbortSignal): Promise<void> {
  await mapLimit(
    hosts,
    hosts.length,
    async (h) => {
      if (signal.aborted) return;
      let host;
      try {
        host = await pool.allocate({ backend: h.backend, system: h.system, index: h.index, name: h.name, signal });
      } catch (e) {
        if (signal.aborted) return;
        throw isTroupeError(e) && (e.code === "E_BACKEND" || e.code === "E_TRANSPORT" || e.code === "E_UNSUPPORTED")
          ? e
          : new TroupeError("E_BACKEND", `cannot allocate ${h.name} (${h.backend.name}:${h.system.name}): ${errorText(e)}`);
      }
      const assignment: HostAssignment = { host, role: h.groups[0] ?? "", index: 1, name: h.name };
      live.set(h.name, { plan: h, host, name: h.name, dir: host.projectPath, assignment });
    },
    { stopOnFailure: true },
  );
}

/**
 * Hosts that are one machine (several Octogram agents on one address, each
 * an SSH host of its own) get a scenario directory each: a directory of
 * the host's name inside the one they would share.
 */
function separateDirectories(live: Map<string, LiveHost>): void {
  const sharing = new Map<string, LiveHost[]>();
  for (const l of live.values()) {
    const key = `${l.host.address}\0${l.dir}`;
    sharing.set(key, [...(sharing.get(key) ?? []), l]);
  }
  for (const group of sharing.values()) {
    if (group.length < 2) continue;
    for (const l of group) live.set(l.name, { ...l, dir: `${l.dir.replace(/\/+$/, "")}/${l.name}` });
  }
}

/** A name made from a script's first line, cut for reports. */
function shorten(name: string): string {
  return name.length > 40 ? `${name.slice(0, 37)}...` : name;
}

function hostScope(l: LiveHost): Record<string, unknown> {
  return {
    name: l.name,
    addr: l.host.address,
    backend: l.plan.backend.name,
    system: l.plan.system.name,
    groups: [...l.plan.groups],
    dir: l.dir,
    index: l.plan.index,
  };
}

function hostsScope(live: ReadonlyMap<string, LiveHost>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, l] of live) out[name] = hostScope(l);
  return out;
}

function scenarioScope(plan: ScenarioPlan): Record<string, unknown> {
  return { name: plan.name, file: plan.file ?? "", dir: plan.baseDir };
}

/** Run `fn` on each item, one after the other or all at once. */
async function inMode<T>(mode: "sequential" | "concurrent", items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  if (mode === "concurrent") {
    await Promise.all(items.map(fn));
    return;
  }
  for (const item of items) await fn(item);
}

async function untilStopped(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([p, stopped]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
