// The one script runner: runs a script on a host through its transport,
// splits what it prints into lines (linear time, bounded memory, UTF-8 safe),
// keeps the end of the output up to a bound, warns and kills on timeouts,
// reads the script's markers, and ends in one ScriptResult. It never throws
// for the script's own failure nor for the transport's: both are results.
//
// It emits nothing itself: callers turn lines into events, logs or the
// terminal (the hook runner, scenario steps, adhoc scripts, exec).

import type { Readable } from "node:stream";
import type { Transport } from "../transport/transport.js";
import { errorText } from "../util/text.js";
import { LineSplitter } from "./lines.js";
import { isControlMarker, MARKER_EXIT, parseMarker, type Marker } from "./markers.js";
import type { OutputLine, ScriptFailure, ScriptResult, Stream } from "./result.js";
import { TailBuffer } from "./tail.js";
import { redactingStream } from "../secrets/registry.js";
import { setLongInterval, setLongTimeout } from "../util/long-timer.js";

/** How much of the combined output a result keeps by default (characters). */
export const DEFAULT_OUTPUT_TAIL = 64 * 1024;
/** What a warning shows at most of the output since the previous one. */
const WARN_TAIL = 64 * 1024;
/** Enough of stderr to read a marker on its last line. */
const CONTROL_TAIL = 4096;

/**
 * A script as the host's shell runs it, and where its markers are:
 * - `control`: the last line of stderr (Spread's preludes send the script's
 *   stderr to stdout and keep the original stderr for markers, fd 9);
 *   marker lines there are not output (the prelude printed them on stdout);
 * - `output`: the last line of the output (adhoc scripts, as Spread reads them);
 * - `none`: no markers (a plain command).
 */
export interface PreparedScript {
  readonly text: string;
  readonly markers: "control" | "output" | "none";
}

export interface ScriptRequest {
  readonly transport: Transport;
  /** The text to run; a plain string is a command with no markers. */
  readonly script: PreparedScript | string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly stdin?: Readable | string | Buffer;
  /** Aborting kills the script: a failure of kind `interrupt`. */
  readonly signal?: AbortSignal;
  /** Call `onWarn` every `warnMs` with what was printed since the last call. */
  readonly warnMs?: number;
  /** Kill the script after `killMs`: a failure of kind `timeout`. */
  readonly killMs?: number;
  readonly onLine?: (line: OutputLine) => void;
  readonly onWarn?: (afterMs: number, recent: string) => void;
  /** How much to keep, in characters: the combined output's end (default 64 KiB), each stream's end (default 0). */
  readonly capture?: { readonly output?: number; readonly stdout?: number; readonly stderr?: number };
}

export async function runScript(req: ScriptRequest): Promise<ScriptResult> {
  const started = Date.now();
  const prepared: PreparedScript = typeof req.script === "string" ? { text: req.script, markers: "none" } : req.script;
  const output = new TailBuffer(req.capture?.output ?? DEFAULT_OUTPUT_TAIL);
  const streams: Record<Stream, TailBuffer> = {
    stdout: new TailBuffer(req.capture?.stdout ?? 0),
    stderr: new TailBuffer(Math.max(req.capture?.stderr ?? 0, prepared.markers === "control" ? CONTROL_TAIL : 0)),
  };
  const recent = new TailBuffer(WARN_TAIL);
  let printed = 0;

  // Secrets are hidden here, before the text is split: a secret split across chunks is found whole.
  const splitter = (stream: Stream): LineSplitter => {
    const filter = redactingStream();
    return new LineSplitter(
      (text, partial) => {
        const eol = partial ? "" : "\n";
        streams[stream].append(text + eol);
        if (stream === "stderr" && prepared.markers === "control" && !partial && isControlMarker(text)) return;
        output.append(text + eol);
        req.onLine?.({ stream, text, partial });
      },
      filter ? { filter } : {},
    );
  };
  const lines: Record<Stream, LineSplitter> = { stdout: splitter("stdout"), stderr: splitter("stderr") };
  const feed = (stream: Stream, chunk: Buffer): void => {
    const text = lines[stream].push(chunk);
    printed += text.length;
    if (req.onWarn) recent.append(text);
  };

  const kill = new AbortController();
  let stoppedBy: "timeout" | "interrupt" | undefined;
  const stop = (why: "timeout" | "interrupt"): void => {
    stoppedBy ??= why;
    kill.abort();
  };
  const onAbort = (): void => stop("interrupt");
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener("abort", onAbort, { once: true });
  const warnTimer =
    req.warnMs !== undefined && req.warnMs > 0 && req.onWarn
      ? setLongInterval(() => {
          const text = recent.text();
          recent.reset();
          req.onWarn?.(Date.now() - started, text);
        }, req.warnMs)
      : undefined;
  const killTimer = req.killMs !== undefined && req.killMs > 0 ? setLongTimeout(() => stop("timeout"), req.killMs) : undefined;

  let exitCode: number | null = null;
  let signal: NodeJS.Signals | null = null;
  let transportError: unknown;
  try {
    const r = await req.transport.exec({
      script: prepared.text,
      ...(req.env ? { env: req.env } : {}),
      ...(req.cwd ? { cwd: req.cwd } : {}),
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
      signal: kill.signal,
      onStdout: (c) => feed("stdout", c),
      onStderr: (c) => feed("stderr", c),
    });
    exitCode = r.exitCode;
    signal = r.signal;
  } catch (err) {
    transportError = err;
  } finally {
    warnTimer?.clear();
    killTimer?.clear();
    req.signal?.removeEventListener("abort", onAbort);
    printed += lines.stdout.end().length;
    printed += lines.stderr.end().length;
  }

  let failure: ScriptFailure | undefined;
  let marker: Marker | undefined;
  if (stoppedBy) {
    failure = { kind: stoppedBy, message: stoppedBy === "timeout" ? "kill-timeout reached" : "interrupted" };
    exitCode = null;
  } else if (transportError !== undefined) {
    failure = { kind: "transport", message: errorText(transportError), cause: transportError };
  } else if (exitCode === null) {
    failure = { kind: "signal", message: `killed by ${signal ?? "a signal"}` };
  } else if (exitCode !== 0) {
    if (exitCode === MARKER_EXIT && prepared.markers !== "none") {
      marker = parseMarker(prepared.markers === "control" ? streams.stderr.text() : output.text());
    }
    failure = marker
      ? { kind: "marker", message: marker.arg !== "" ? marker.arg : `${marker.kind} called` }
      : { kind: "exit", message: `exit status ${exitCode}` };
  }
  return {
    ok: failure === undefined,
    exitCode,
    signal,
    ...(failure ? { failure } : {}),
    ...(marker ? { marker } : {}),
    output: output.text(),
    truncated: output.truncated,
    printed,
    stdout: streams.stdout.text(),
    stderr: req.capture?.stderr ? streams.stderr.text() : "",
    durationMs: Date.now() - started,
  };
}
