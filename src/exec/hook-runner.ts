// One hook script on one host, as a job's level runs it: Spread's prelude,
// every line an `output` event, a warning when it runs late, REBOOT handled
// by rebooting the host and running the script again (for a host of a job
// with a sync session, the session is suspended around the reboot and
// resumed after it). The script itself is run by the one script runner
// (script/run-script.ts).

import type { Host } from "../backends/backend.js";
import type { EnvVar, Timeouts } from "../model/job.js";
import type { ScriptShell } from "../model/project.js";
import type { EventStream, Level, Phase } from "../report/events.js";
import { runScript } from "../script/run-script.js";
import { killedBy, type ScriptResult } from "../script/result.js";
import { TailBuffer } from "../script/tail.js";
import { errorText } from "../util/text.js";
import { rebootVars } from "./host-vars.js";
import type { HostAssignment, JobSession } from "./job-session.js";
import { buildScript, type VarList } from "./prelude.js";
import { effectiveTimeouts } from "./timeouts.js";

/** Spread gives up after this many reboots of one script. */
const MAX_REBOOTS = 10;

export interface HookRun {
  readonly events: EventStream;
  readonly host: Host;
  /** The backend type, for messages (`REBOOT is not supported on the local backend`). */
  readonly backendType: string;
  /** Reboots the host; absent where the backend cannot. */
  readonly reboot?: (host: Host) => Promise<void>;
  /** The job name, or the context string for project/backend/suite hooks. */
  readonly job: string;
  readonly context: string;
  readonly level: Level;
  readonly phase: Phase;
  readonly script: string;
  readonly dir: string;
  readonly vars: VarList;
  readonly environment: readonly EnvVar[];
  /** What the script is written for (the project's `shell`). */
  readonly shell: ScriptShell;
  /** Define FATAL in the script (troupe projects); a Spread project's scripts have no FATAL, as in Spread. */
  readonly fatal?: boolean;
  readonly timeouts: Timeouts;
  /** Aborting kills the script (an interrupt). */
  readonly signal?: AbortSignal;
  /** The job's sync session and this host's seat in it, when it has one: a REBOOT suspends and resumes it. */
  readonly sync?: { readonly session: JobSession; readonly assignment: HostAssignment };
}

/** How a hook ended: the script's result (the last run's, after reboots), with the output of every run. */
export type HookOutcome = ScriptResult;

export async function runHook(h: HookRun): Promise<HookOutcome> {
  const { events, host } = h;
  const base = { job: h.job, context: h.context, phase: h.phase, host: host.name };
  const started = Date.now();
  events.emit({ type: "hook-started", ...base, level: h.level });
  const { warnMs, killMs } = effectiveTimeouts(h.timeouts);

  // The output of every run of the script (a REBOOT runs it again).
  const output = new TailBuffer(64 * 1024);
  let cut = false;
  let printed = 0;
  let rebootKey = "0";
  let result: ScriptResult;
  h.sync?.session.scriptStarting?.(h.sync.assignment);
  for (let reboot = 0; ; reboot++) {
    const r = await runScript({
      transport: host.transport,
      script: {
        text: buildScript({
          script: h.script,
          dir: h.dir,
          vars: [...h.vars, ...rebootVars(rebootKey)],
          environment: h.environment,
          shell: h.shell,
          ...(h.fatal === false ? { fatal: false } : {}),
        }),
        markers: "control",
      },
      ...(h.signal ? { signal: h.signal } : {}),
      ...(warnMs !== undefined ? { warnMs } : {}),
      ...(killMs !== undefined ? { killMs } : {}),
      onLine: (line) =>
        events.emit({ type: "output", ...base, stream: line.stream, line: line.text, ...(line.partial ? { partial: true } : {}) }),
      onWarn: (_afterMs, recent) => events.emit({ type: "timeout-warning", ...base, afterMs: Date.now() - started, output: recent }),
    });
    output.append(r.output);
    cut ||= r.truncated;
    printed += r.printed;
    result = r;
    if (r.marker?.kind !== "REBOOT") break;
    const failed = (message: string, kind: "marker" | "transport", cause?: unknown): ScriptResult => ({
      ...r,
      failure: { kind, message, ...(cause !== undefined ? { cause } : {}) },
    });
    if (!h.reboot) {
      result = failed(`REBOOT is not supported on the ${h.backendType} backend`, "marker");
      break;
    }
    if (reboot >= MAX_REBOOTS) {
      result = failed(`rebooted on ${host.name} more than ${MAX_REBOOTS} times`, "marker");
      break;
    }
    const as = h.sync && h.sync.assignment.name !== host.name ? `, as ${h.sync.assignment.name}` : "";
    events.message("info", `Rebooting on ${host.name} (${h.context}${as}) as requested...`);
    try {
      await rebootIn(h, h.reboot);
    } catch (err) {
      result = { ...failed(`cannot reboot ${host.name}: ${errorText(err)}`, "transport", err), exitCode: null };
      break;
    }
    rebootKey = r.marker.arg !== "" ? r.marker.arg : String(reboot + 1);
  }

  if (result.failure?.kind === "timeout" || result.failure?.kind === "interrupt") output.append(`<${result.failure.message}>\n`);
  if (result.failure?.kind === "transport" && result.exitCode === null && result.marker === undefined) {
    result = { ...result, failure: { ...result.failure, message: `cannot run script on ${host.name}: ${result.failure.message}` } };
  }
  const text = output.text().replace(/\n$/, "");
  const truncated = cut || output.truncated;
  const by = killedBy(result);
  events.emit({
    type: "hook-finished",
    ...base,
    level: h.level,
    exitCode: result.exitCode,
    ...(by ? { killedBy: by } : {}),
    ...(result.failure ? { error: result.failure.message, failure: result.failure.kind } : {}),
    durationMs: Date.now() - started,
    output: text,
    ...(truncated ? { truncated: true } : {}),
    printed,
  });
  return { ...result, output: text, truncated, durationMs: Date.now() - started };
}

/** Reboot the host; within its job's sync session when it has one, which the reboot must not poison. */
function rebootIn(h: HookRun, reboot: (host: Host) => Promise<void>): Promise<void> {
  const s = h.sync;
  if (s?.session.reboot) return s.session.reboot(s.assignment, () => reboot(h.host));
  return reboot(h.host);
}
