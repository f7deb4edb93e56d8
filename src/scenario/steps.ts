// One step: one job, on one host, for one item. Renders the job's templates
// with the step's scope, resolves URIs, runs the body (a script, a copy, a
// service, a TypeScript function), and says how it went. runner.ts decides
// what happens next.

import { randomBytes } from "node:crypto";
import { resolve as resolvePath } from "node:path";
import type { Host } from "../backends/backend.js";
import type { HostAssignment } from "../exec/job-session.js";
import type { OutputLine } from "../script/result.js";
import { runScript } from "../script/run-script.js";
import { shownTail, TailBuffer } from "../script/tail.js";
import { setLongTimeout } from "../util/long-timer.js";
import type { EventStream } from "../report/events.js";
import type { SyncSession } from "../sync/session.js";
import { TroupeError } from "../util/errors.js";
import { classifyUri, findUris, joinEndpoint, replaceUris, replaceUrisSync, UriError, type ServiceLookup } from "./uris.js";
import { buildStepScript, endpointPort } from "./script.js";
import type { ServiceSet } from "./services.js";
import { renderTemplate, type RenderWhere } from "./template.js";
import { copyPlace, hostPath, type Place } from "./transfer.js";
import { runPluginStep } from "./plugin-step.js";
import { collectLog, hostLogFile } from "./logs.js";
import type { CallContext, PlannedHost, PlannedJob, PlannedStage, Value } from "./types.js";
import type { StepOutput } from "./vars.js";
import { errorText } from "../util/text.js";

/** A host of the running scenario. */
export interface LiveHost {
  readonly plan: PlannedHost;
  readonly host: Host;
  /** The scenario name (`node-3`); `host.name` is the backend's. */
  readonly name: string;
  /** Its scenario directory: relative paths on the host start here. */
  readonly dir: string;
  readonly assignment: HostAssignment;
}

/** What every step shares. */
export interface StepEnv {
  readonly events: EventStream;
  readonly hosts: ReadonlyMap<string, LiveHost>;
  readonly baseDir: string;
  /** The run's folder (kept logs are fetched under its logs/). */
  readonly runDir: string;
  /** Names under runDir taken by kept logs. */
  readonly keptLogs: Set<string>;
  /** Aborted by the user (Ctrl-C): kept logs are no longer fetched. */
  readonly runSignal: AbortSignal;
  readonly services: ServiceSet;
  readonly serviceLookup: ServiceLookup;
  readonly uriPattern: RegExp;
  readonly session: SyncSession | undefined;
  /** TROUPE_* variables every step gets (scenario, run), before the step's own. */
  readonly commonVars: readonly (readonly [string, string])[];
  /** Per host: TROUPE_HOST, TROUPE_HOSTS, addresses, troupe-ctl's environment. */
  hostVars(host: LiveHost): readonly (readonly [string, string])[];
  /** Per host: what plugins keep between steps, and the directory it serves to HOST://path (builtins.start_http_server). */
  readonly pluginState: Map<string, Map<string, unknown>>;
  readonly served: Map<string, string>;
  /** Remember where a service came from, to report it if it dies. */
  serviceOrigin(host: string, service: string, origin: { stage: PlannedStage; job: string; item?: string; ignore: boolean }): void;
}

export interface StepInput {
  readonly env: StepEnv;
  readonly stage: PlannedStage;
  readonly job: PlannedJob;
  readonly host: LiveHost;
  /** The job's name for this step, rendered. */
  readonly name: string;
  readonly item: Value;
  readonly itemShown?: string;
  /** The template scope: vars (the job's copy), host, hosts, re, item, run, stage, job, scenario. */
  readonly scope: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
}

export interface StepOutcome {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly error?: string;
  /** Killed because the scenario stopped (another failure, Ctrl-C). */
  readonly stopped: boolean;
  readonly result: StepOutput;
  /** stdout and stderr as they came, for reports. */
  readonly output: string;
}

/** How much of each stream a step keeps for `res.stdout` / `res.stderr` (characters). */
const STREAM_TAIL = 1 << 20;

/** What a step printed: the end of its output (every script it ran), and of its last script's streams. */
export class Capture {
  readonly output = new TailBuffer(STREAM_TAIL);
  stdout = "";
  stderr = "";
  constructor(readonly onLine: (line: OutputLine) => void) {}

  /** The output as reports show it: its end, saying when the beginning was cut. */
  shown(): string {
    return shownTail(this.output.text(), this.output.truncated);
  }
}

/** Say a line the step (or its service) printed. */
export function emitOutput(input: StepInput, stream: "stdout" | "stderr", line: string, partial = false): void {
  input.env.events.emit({
    type: "output",
    job: `${input.stage.name} / ${input.name}`,
    context: input.stage.name,
    phase: "execute",
    host: input.host.name,
    stream,
    line,
    ...(partial ? { partial: true } : {}),
  });
}

export async function runStep(input: StepInput): Promise<StepOutcome> {
  const { stage, host, name } = input;
  const capture = new Capture((line) => emitOutput(input, line.stream, line.text, line.partial));
  const where: RenderWhere = { stage: stage.name, job: name, host: host.name };
  const body = input.job.body;
  try {
    switch (body.kind) {
      case "run": {
        const text = renderTemplate(body.script, input.scope, where);
        const log = hostLogFile(input);
        const script = await scriptFor(input, text, where, log);
        if (log === undefined) return await execScript(input, script, capture, input.job.timeoutMs);
        const outcome = await execScript(input, script, capture, input.job.timeoutMs);
        return { ...outcome, output: await collectLog(input, log) };
      }
      case "copy": {
        const from = renderTemplate(body.from, input.scope, where).trim();
        const to = renderTemplate(body.to, input.scope, where).trim();
        const signal = withTimeout(input.signal, input.job.timeoutMs);
        try {
          const landed = await copyPlace(place(input, from, "from", where), place(input, to, "to", where), signal.signal);
          const line = `copied ${from} to ${landed}`;
          capture.output.append(line + "\n");
          // Said like a script's output: where it landed, in the terminal and the host's log.
          capture.onLine({ stream: "stdout", text: line, partial: false });
          return { ok: true, exitCode: 0, stopped: false, result: { status: 0, stdout: landed, stderr: "" }, output: capture.shown() };
        } finally {
          signal.dispose();
        }
      }
      case "service": {
        const command = renderTemplate(body.command, input.scope, where);
        const endpoint = body.endpoint
          ? await resolveUris(input, renderTemplate(body.endpoint, input.scope, where).trim(), where, false)
          : undefined;
        const metricsPath = body.metrics ? renderTemplate(body.metrics, input.scope, where).trim() : undefined;
        const metrics =
          metricsPath === undefined
            ? undefined
            : /^[a-z][a-z0-9+.-]*:\/\//i.test(metricsPath)
              ? metricsPath
              : endpoint
                ? joinEndpoint(endpoint, metricsPath.startsWith("/") ? metricsPath : `/${metricsPath}`)
                : undefined;
        if (metricsPath !== undefined && metrics === undefined)
          throw new TroupeError(
            "E_SCENARIO",
            `service ${name}: metrics: ${metricsPath} needs an endpoint: to be under (or write a full URL)`,
          );
        const ready = body.ready ? renderTemplate(body.ready, input.scope, where) : undefined;
        await startService(input, where, {
          name,
          command,
          ...(endpoint ? { endpoint } : {}),
          ...(metrics ? { metrics } : {}),
          ...(ready ? { ready } : {}),
          readyTimeoutMs: body.readyTimeoutMs,
        });
        return {
          ok: true,
          exitCode: 0,
          stopped: false,
          result: { status: 0, stdout: "", stderr: "", ...(endpoint ? { endpoint } : {}) },
          output: "",
        };
      }
      case "plugin": {
        const fields = await runPluginStep(input, capture, where, body.name, body.args);
        return { ok: true, exitCode: 0, stopped: false, result: { status: 0, stdout: "", stderr: "", fields }, output: capture.shown() };
      }
      case "call": {
        const value = await body.fn(callContext(input, capture, where));
        return {
          ok: true,
          exitCode: 0,
          stopped: false,
          result: { status: 0, stdout: "", stderr: "", value: value ?? null },
          output: capture.shown(),
        };
      }
    }
  } catch (e) {
    const stopped = input.signal.aborted;
    const error = e instanceof TroupeError ? e.message : e instanceof UriError ? `${name}: ${e.message}` : errorText(e);
    return {
      ok: false,
      exitCode: null,
      error: stopped && !(e instanceof TroupeError && e.code === "E_SCENARIO") ? "stopped" : error,
      stopped,
      result: { status: null, stdout: capture.stdout, stderr: capture.stderr },
      output: capture.shown(),
    };
  }
}

/** What a service step (or a plugin's service) starts. */
export interface ServiceStart {
  readonly name: string;
  /** What it runs (a shell script, templates rendered). */
  readonly command: string;
  readonly endpoint?: string;
  readonly metrics?: string;
  /** A shell script that succeeds once it is ready. */
  readonly ready?: string;
  readonly readyTimeoutMs: number;
}

/** Start a service on the step's host and wait until it is ready; its output is the step's (or its host's file: log:). */
export async function startService(input: StepInput, where: RenderWhere, spec: ServiceStart): Promise<void> {
  const { env, host, stage } = input;
  const log = hostLogFile(input);
  const script = await scriptFor(input, spec.command, where, log);
  const ready = spec.ready !== undefined ? await scriptFor(input, spec.ready, where) : undefined;
  const port = spec.endpoint ? endpointPort(spec.endpoint) : undefined;
  env.serviceOrigin(host.name, spec.name, {
    stage,
    job: input.name,
    ...(input.itemShown !== undefined ? { item: input.itemShown } : {}),
    ignore: input.job.ignoreFailure,
  });
  await env.services.start(
    {
      host: host.name,
      name: spec.name,
      transport: host.host.transport,
      script,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(spec.metrics ? { metrics: spec.metrics } : {}),
      ...(ready !== undefined ? { ready } : {}),
      ...(port !== undefined ? { port } : {}),
      readyTimeoutMs: spec.readyTimeoutMs,
      ...(log !== undefined ? { collectLog: () => collectLog(input, log, spec.name) } : {}),
      onLine: (stream, line) => emitOutput(input, stream, line),
    },
    input.signal,
  );
}

/** The full script for `text` on the step's host: prelude, variables, URIs resolved; its output to `log` on the host if given. */
export async function scriptFor(input: StepInput, text: string, where: RenderWhere, log?: string): Promise<string> {
  const { env, host } = input;
  const resolved = await resolveUris(input, text, where, true);
  const own: [string, string][] = [];
  for (const [k, t] of input.job.env) own.push([k, await resolveUris(input, renderTemplate(t, input.scope, where), where, true)]);
  return buildStepScript({
    script: resolved,
    dir: host.dir,
    vars: [
      ...env.commonVars,
      ...env.hostVars(host),
      ["TROUPE_STAGE", input.stage.name],
      ["TROUPE_STAGE_HOSTS", stageHosts(input).join(" ")],
      ["TROUPE_STAGE_COUNT", String(stageHosts(input).length)],
      ["TROUPE_JOB", input.name],
      ["TROUPE_ITEM", input.itemShown ?? ""],
      ...own,
    ],
    ...(log !== undefined ? { log } : {}),
  });
}

function stageHosts(input: StepInput): readonly string[] {
  const stage = input.scope["stage"] as { hosts?: readonly string[] } | undefined;
  return stage?.hosts ?? [];
}

export async function execScript(input: StepInput, script: string, capture: Capture, timeoutMs: number | undefined): Promise<StepOutcome> {
  const r = await runScript({
    transport: input.host.host.transport,
    script: { text: script, markers: "control" },
    signal: input.signal,
    ...(timeoutMs !== undefined ? { killMs: timeoutMs } : {}),
    onLine: (line) => {
      capture.output.append(line.partial ? line.text : line.text + "\n");
      capture.onLine(line);
    },
    capture: { output: 0, stdout: STREAM_TAIL, stderr: STREAM_TAIL },
  });
  capture.stdout = r.stdout;
  capture.stderr = r.stderr;
  const result: StepOutput = { status: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  const output = capture.shown();
  switch (r.failure?.kind) {
    case undefined:
      return { ok: true, exitCode: 0, stopped: false, result, output };
    case "timeout":
      return { ok: false, exitCode: null, error: `timeout reached after ${formatMs(timeoutMs ?? 0)}`, stopped: false, result, output };
    case "interrupt":
      return { ok: false, exitCode: null, error: "stopped", stopped: true, result, output };
    case "transport":
      throw r.failure.cause;
    case "signal":
    case "exit":
      return { ok: false, exitCode: r.exitCode, error: r.failure.message, stopped: false, result, output };
    case "marker":
      return {
        ok: false,
        exitCode: r.exitCode,
        error: r.marker?.kind === "REBOOT" ? `exit status ${r.exitCode}` : r.failure.message,
        stopped: false,
        result,
        output,
      };
  }
}

function callContext(input: StepInput, capture: Capture, where: RenderWhere): CallContext {
  const { env, host } = input;
  const session = env.session;
  return {
    host: { name: host.name, addr: host.host.address, groups: host.plan.groups, dir: host.dir },
    vars: input.scope["vars"] as Record<string, Value>,
    item: input.item,
    re: input.scope["re"] as readonly string[],
    signal: input.signal,
    get sync() {
      if (!session) throw new Error("the sync service is not running");
      return session.client(host.name);
    },
    exec: async (text: string) => {
      const script = await scriptFor(input, text, where);
      const r = await execScript(input, script, capture, input.job.timeoutMs);
      return { status: r.result.status, stdout: r.result.stdout, stderr: r.result.stderr };
    },
    resolve: (text: string) => resolveUris(input, text, where, true),
  };
}

/**
 * Replace the URIs in `text`. Services become their endpoints; with
 * `deliver`, a file on another host (or the orchestrator) is copied to the
 * step's host first and becomes that copy's path; a file on the step's own
 * host becomes its path. Without `deliver`, file URIs stay as written.
 */
export async function resolveUris(input: StepInput, text: string, where: RenderWhere, deliver: boolean): Promise<string> {
  const { env, host } = input;
  let fetched = 0;
  const stepDir = `.troupe/uri/${randomBytes(4).toString("hex")}`;
  return replaceUris(text, env.uriPattern, async (ref) => {
    let target;
    try {
      target = classifyUri(ref, host.name, env.serviceLookup);
    } catch (e) {
      if (e instanceof UriError) throw new TroupeError("E_SCENARIO", `${describe(where)}${e.message}`);
      throw e;
    }
    if (target.kind === "service") return target.value;
    if (!deliver) return `${ref.host}://${ref.rest}`;
    if (target.host === host.name) return hostPath(host.dir, target.path);
    const from = placeOf(input, target.host, target.path, where);
    const dest = hostPath(host.dir, `${stepDir}/${fetched++}`) + "/";
    return copyPlace(from, { where: "host", host: host.name, transport: host.host.transport, path: dest }, input.signal);
  });
}

/** Service URIs in a value that goes nowhere near a host (vars_updates): endpoints; file URIs stay. */
export function resolveServiceUris(env: StepEnv, self: string, text: string, where: RenderWhere): string {
  return replaceUrisSync(text, env.uriPattern, (ref) => {
    try {
      const target = classifyUri(ref, self, env.serviceLookup);
      return target.kind === "service" ? target.value : `${ref.host}://${ref.rest}`;
    } catch (e) {
      if (e instanceof UriError) throw new TroupeError("E_SCENARIO", `${describe(where)}${e.message}`);
      throw e;
    }
  });
}

function describe(where: RenderWhere): string {
  const parts: string[] = [];
  if (where.stage !== undefined) parts.push(`stage "${where.stage}"`);
  if (where.job !== undefined) parts.push(`job "${where.job}"`);
  if (where.host !== undefined) parts.push(`host ${where.host}`);
  return parts.length ? `${parts.join(", ")}: ` : "";
}

export function placeOf(input: StepInput, hostName: string, path: string, where: RenderWhere): Place {
  // `.` and `..` name directories, as `cp f .` means: the file goes inside, even before the directory exists.
  const slash = path.endsWith("/") || /(^|\/)\.\.?$/.test(path) ? "/" : "";
  if (hostName === "orchestrator") return { where: "orchestrator", path: resolvePath(input.env.baseDir, path) + slash };
  const h = input.env.hosts.get(hostName);
  if (!h) throw new TroupeError("E_SCENARIO", `${describe(where)}no host ${hostName}`);
  return { where: "host", host: h.name, transport: h.host.transport, path: hostPath(h.dir, path) + slash };
}

/** A copy location: one whole URI, or a plain path (from: the orchestrator; to: the step's host). */
function place(input: StepInput, text: string, side: "from" | "to", where: RenderWhere): Place {
  if (text === "") throw new TroupeError("E_SCENARIO", `${describe(where)}copy ${side}: is empty`);
  const refs = findUris(text, input.env.uriPattern);
  const whole = refs.length === 1 && refs[0]!.start === 0 && refs[0]!.end === text.length ? refs[0] : undefined;
  if (whole) {
    let target;
    try {
      target = classifyUri(whole, input.host.name, input.env.serviceLookup);
    } catch (e) {
      if (e instanceof UriError) throw new TroupeError("E_SCENARIO", `${describe(where)}copy ${side}: ${e.message}`);
      throw e;
    }
    if (target.kind === "service")
      throw new TroupeError("E_SCENARIO", `${describe(where)}copy ${side}: ${text} names a service; give a path`);
    return placeOf(input, target.host, target.path + (whole.rest.endsWith("/") ? "/" : ""), where);
  }
  if (side === "from") return placeOf(input, "orchestrator", text, where);
  return placeOf(input, input.host.name, text, where);
}

interface Timer {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  dispose(): void;
}

/** `outer`, plus a timeout when there is one. */
function withTimeout(outer: AbortSignal, ms: number | undefined): Timer {
  if (ms === undefined) return { signal: outer, timedOut: () => false, dispose: () => undefined };
  const ac = new AbortController();
  let fired = false;
  const t = setLongTimeout(() => {
    fired = true;
    ac.abort();
  }, ms);
  const onOuter = (): void => ac.abort();
  if (outer.aborted) ac.abort();
  else outer.addEventListener("abort", onOuter, { once: true });
  return {
    signal: ac.signal,
    timedOut: () => fired,
    dispose: () => {
      t.clear();
      outer.removeEventListener("abort", onOuter);
    },
  };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
