// Runs one hook script on one host: builds the prelude, streams output as
// events (one per line and stream), warns and kills on timeouts, follows
// REBOOT/ERROR/FATAL markers, and reports the outcome.

import type { Host } from "../backends/backend.js";
import type { EnvVar, Timeouts } from "../model/job.js";
import type { EventStream, Level, Phase } from "../report/events.js";
import { LineSplitter } from "./line-splitter.js";
import { buildScript, MARKER_EXIT, parseMarker, type VarList } from "./prelude.js";
import { rebootVars } from "./host-vars.js";
import { effectiveTimeouts } from "./timeouts.js";
import { errorText } from "../util/text.js";

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
  readonly timeouts: Timeouts;
  /** Aborting kills the script (an interrupt). */
  readonly signal?: AbortSignal;
}

export interface HookOutcome {
  readonly ok: boolean;
  /** The last exit status; null when killed. */
  readonly exitCode: number | null;
  readonly killedBy?: "timeout" | "interrupt" | "signal";
  /** Why it failed, in one line. */
  readonly error?: string;
  /** FATAL was called: the host is not to be trusted any more. */
  readonly fatal: boolean;
  /** The transport failed: the host is unreachable. */
  readonly transportError: boolean;
  readonly output: string;
}

export async function runHook(h: HookRun): Promise<HookOutcome> {
  const { events, host } = h;
  const base = { job: h.job, context: h.context, phase: h.phase, host: host.name };
  const started = Date.now();
  events.emit({ type: "hook-started", ...base, level: h.level });

  let output = "";
  let outcome: Omit<HookOutcome, "output">;
  let rebootKey = "0";
  for (let reboot = 0; ; reboot++) {
    const part = await runOnce(h, rebootKey, base, started, (text) => (output += text));
    if (part.marker?.kind !== "REBOOT") {
      outcome = part.outcome;
      break;
    }
    if (!h.reboot) {
      outcome = {
        ok: false,
        exitCode: MARKER_EXIT,
        error: `REBOOT is not supported on the ${h.backendType} backend`,
        fatal: false,
        transportError: false,
      };
      break;
    }
    if (reboot >= MAX_REBOOTS) {
      outcome = {
        ok: false,
        exitCode: MARKER_EXIT,
        error: `rebooted on ${host.name} more than ${MAX_REBOOTS} times`,
        fatal: false,
        transportError: false,
      };
      break;
    }
    events.message("info", `Rebooting on ${host.name} (${h.context}) as requested...`);
    try {
      await h.reboot(host);
    } catch (err) {
      outcome = { ok: false, exitCode: null, error: `cannot reboot ${host.name}: ${errorText(err)}`, fatal: false, transportError: true };
      break;
    }
    rebootKey = part.marker.arg !== "" ? part.marker.arg : String(reboot + 1);
  }

  events.emit({
    type: "hook-finished",
    ...base,
    level: h.level,
    exitCode: outcome.exitCode,
    ...(outcome.killedBy ? { killedBy: outcome.killedBy } : {}),
    ...(outcome.error !== undefined && !outcome.ok ? { error: outcome.error } : {}),
    durationMs: Date.now() - started,
    output: output.replace(/\n$/, ""),
  });
  return { ...outcome, output: output.replace(/\n$/, "") };
}

interface Part {
  readonly outcome: Omit<HookOutcome, "output">;
  readonly marker?: ReturnType<typeof parseMarker>;
}

const MARKER_LINE = /^<(REBOOT|ERROR|FATAL)( .*)?>$/;

type Base = { job: string; context: string; phase: Phase; host: string };

async function runOnce(h: HookRun, rebootKey: string, base: Base, started: number, append: (text: string) => void): Promise<Part> {
  const { events } = h;
  const script = buildScript({
    script: h.script,
    dir: h.dir,
    vars: [...h.vars, ...rebootVars(rebootKey)],
    environment: h.environment,
  });

  // The prelude merges the script's stderr into stdout (order kept, as
  // Spread's `bash - 2>&1`) and writes REBOOT/ERROR/FATAL markers, on the
  // original stderr too, where nothing a background job prints can follow them.
  let control = "";
  let sinceWarning = "";
  // Raw text for warnings (partial lines show progress); the hook's whole
  // output is made of complete lines, so streams never interleave mid-line.
  const take = (text: string, isStdout: boolean): void => {
    if (text === "") return;
    if (isStdout) sinceWarning += text;
    else control += text;
  };
  const splitter = (stream: "stdout" | "stderr"): LineSplitter =>
    new LineSplitter((line) => {
      if (stream === "stderr" && MARKER_LINE.test(line)) return; // shown on stdout already
      append(line + "\n");
      events.emit({ type: "output", ...base, stream, line });
    });
  const outLines = splitter("stdout");
  const errLines = splitter("stderr");

  const kill = new AbortController();
  let killedBy: HookOutcome["killedBy"];
  const onOuterAbort = (): void => {
    killedBy ??= "interrupt";
    kill.abort();
  };
  if (h.signal?.aborted) onOuterAbort();
  else h.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const { warnMs, killMs } = effectiveTimeouts(h.timeouts);
  const warnTimer =
    warnMs === undefined
      ? undefined
      : setInterval(() => {
          events.emit({ type: "timeout-warning", ...base, afterMs: Date.now() - started, output: sinceWarning });
          sinceWarning = "";
        }, warnMs);
  const killTimer =
    killMs === undefined
      ? undefined
      : setTimeout(() => {
          killedBy ??= "timeout";
          kill.abort();
        }, killMs);

  try {
    const result = await h.host.transport.exec({
      script,
      signal: kill.signal,
      onStdout: (chunk) => take(outLines.push(chunk), true),
      onStderr: (chunk) => take(errLines.push(chunk), false),
    });
    take(outLines.end(), true);
    take(errLines.end(), false);
    if (killedBy) {
      const note = killedBy === "timeout" ? "kill-timeout reached" : "interrupted";
      append(`<${note}>\n`);
      return { outcome: { ok: false, exitCode: null, killedBy, error: note, fatal: false, transportError: false } };
    }
    if (result.exitCode === null) {
      return {
        outcome: {
          ok: false,
          exitCode: null,
          killedBy: "signal",
          error: `killed by ${result.signal ?? "a signal"}`,
          fatal: false,
          transportError: false,
        },
      };
    }
    if (result.exitCode === 0) return { outcome: { ok: true, exitCode: 0, fatal: false, transportError: false } };
    const marker = result.exitCode === MARKER_EXIT ? parseMarker(control) : undefined;
    if (marker?.kind === "REBOOT")
      return { outcome: { ok: false, exitCode: result.exitCode, fatal: false, transportError: false }, marker };
    if (marker) {
      const error = marker.arg !== "" ? marker.arg : `${marker.kind} called`;
      return { outcome: { ok: false, exitCode: result.exitCode, error, fatal: marker.kind === "FATAL", transportError: false }, marker };
    }
    return {
      outcome: { ok: false, exitCode: result.exitCode, error: `exit status ${result.exitCode}`, fatal: false, transportError: false },
    };
  } catch (err) {
    take(outLines.end(), true);
    take(errLines.end(), false);
    return {
      outcome: {
        ok: false,
        exitCode: null,
        error: `cannot run script on ${h.host.name}: ${errorText(err)}`,
        fatal: false,
        transportError: true,
      },
    };
  } finally {
    if (warnTimer) clearInterval(warnTimer);
    if (killTimer) clearTimeout(killTimer);
    h.signal?.removeEventListener("abort", onOuterAbort);
  }
}
