// Log policies (`log:`) of steps and services. With `stream` every line
// reaches troupe as it comes. With `keep` and `summary` the host writes the
// output to a file of its own (script.ts's redirect): nothing crosses the
// network while the step or service runs, and troupe holds nothing of it.
// When it ends, the file is fetched into the run's folder (one compressed tar
// stream, written to disk as it comes), a `log-kept` event says where; with
// `summary` its last lines are shown first, read back from that copy a line
// at a time (memory bounded by the lines shown, whatever the log's size).

import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { randomBytes } from "node:crypto";
import { LineSplitter } from "../script/lines.js";
import { redactingStream } from "../secrets/registry.js";
import { errorText } from "../util/text.js";
import { emitOutput, type StepInput } from "./steps.js";
import { copyPlace } from "./transfer.js";

/** A line shown in a summary is cut past this many characters. */
const SHOWN_LINE = 4096;

/** Where a step's or service's output goes on its host, or undefined when it streams. */
export function hostLogFile(input: StepInput): string | undefined {
  if (input.job.log.mode === "stream") return undefined;
  return posix.join(input.host.dir, ".troupe", "logs", `${fileStem(input)}-${randomBytes(3).toString("hex")}.log`);
}

/** `2-build` or `2-build-item-3`: stage number and the step's name, safe as a file name. */
function fileStem(input: StepInput): string {
  const safe = (s: string): string =>
    s
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .replace(/^[._]+/, "")
      .slice(0, 60) || "step";
  const item = input.itemShown !== undefined ? `-item-${safe(input.itemShown)}` : "";
  return `${input.stage.index + 1}-${safe(input.name)}${item}`;
}

/** A name under `logs/<host>/` no other kept log of this run has. */
function localName(input: StepInput): string {
  const taken = input.env.keptLogs;
  const stem = `logs/${input.host.name}/${fileStem(input)}`;
  let name = `${stem}.log`;
  for (let n = 2; taken.has(name); n++) name = `${stem}-${n}.log`;
  taken.add(name);
  return name;
}

/**
 * Fetch a kept log into the run's folder and say so (a `log-kept` event;
 * with `summary`, its last lines first, as output). Returns what reports
 * show of the step's output: the summary's lines, or nothing. Never throws:
 * a log that cannot be fetched is said in the event.
 */
export async function collectLog(input: StepInput, hostFile: string, service?: string): Promise<string> {
  const { env, stage, host } = input;
  const policy = input.job.log;
  const ids = {
    stage: stage.name,
    stageIndex: stage.index + 1,
    job: input.name,
    host: host.name,
    ...(input.itemShown !== undefined ? { item: input.itemShown } : {}),
    ...(service !== undefined ? { service } : {}),
    mode: policy.mode === "summary" ? ("summary" as const) : ("keep" as const),
    hostFile,
  };
  if (env.runSignal.aborted) {
    env.events.emit({ type: "log-kept", ...ids, lines: 0, bytes: 0, shown: 0, error: "the run was interrupted" });
    return "";
  }
  const name = localName(input);
  const file = join(env.runDir, name);
  const fetched = `${file}.fetching`;
  try {
    await copyPlace(
      { where: "host", host: host.name, transport: host.host.transport, path: hostFile },
      { where: "orchestrator", path: fetched },
      env.runSignal,
    );
    const { lines, tail } = await settle(fetched, file, policy.mode === "summary" ? policy.lines : 0);
    const bytes = (await stat(file)).size;
    for (const line of tail) emitOutput(input, "stdout", line);
    env.events.emit({ type: "log-kept", ...ids, file: name, lines, bytes, shown: tail.length });
    return tail.length > 0 ? tail.join("\n") + "\n" : "";
  } catch (e) {
    env.events.emit({ type: "log-kept", ...ids, lines: 0, bytes: 0, shown: 0, error: errorText(e) });
    return "";
  } finally {
    await rm(fetched, { force: true }).catch(() => undefined);
  }
}

/**
 * Move a fetched log to its place, with known secrets masked as in streamed
 * output (then it is rewritten as it is read); returns its line count (a last
 * line without newline counts) and its last `n` lines, each cut at SHOWN_LINE.
 */
export async function settle(fetched: string, file: string, n: number): Promise<{ lines: number; tail: string[] }> {
  const ring: string[] = [];
  let lines = 0;
  let long = false;
  const filter = redactingStream();
  const splitter = new LineSplitter(
    (text, partial) => {
      // A line longer than SHOWN_LINE comes in pieces: the first is shown, the rest only counted.
      if (!long && n > 0) ring[lines % n] = partial || text.length > SHOWN_LINE ? `${text.slice(0, SHOWN_LINE)} [...]` : text;
      long = partial;
      if (!partial) lines++;
    },
    { maxLine: SHOWN_LINE, ...(filter ? { filter } : {}) },
  );
  if (!filter) {
    await rename(fetched, file);
    for await (const chunk of createReadStream(file)) splitter.push(chunk as Buffer);
    splitter.end();
  } else {
    const out = createWriteStream(file);
    try {
      for await (const chunk of createReadStream(fetched)) {
        if (!out.write(splitter.push(chunk as Buffer))) await once(out, "drain");
      }
      out.end(splitter.end());
      await once(out, "finish");
    } finally {
      out.destroy();
    }
  }
  if (long) lines++; // ended inside a long line
  const shown = Math.min(n, lines);
  const tail: string[] = [];
  for (let i = lines - shown; i < lines; i++) tail.push(ring[i % n]!);
  return { lines, tail };
}
