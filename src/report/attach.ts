// Wire the writers to the event stream, as the CLI does for every run.

import type { Writable } from "node:stream";
import type { EventStream } from "./events.js";
import type { TimeZone } from "./format.js";
import { writeJson } from "./json.js";
import { writeJUnit } from "./junit.js";
import { ResultsWriter } from "./results.js";
import type { RunJson } from "./run-json.js";
import { TerminalWriter, type Verbosity } from "./terminal.js";
import { errorText } from "../util/text.js";

export interface AttachOptions {
  /** The run directory, `.troupe/runs/<run-id>`. */
  readonly runDir: string;
  /** Also write JUnit XML here at the end. */
  readonly junit?: string;
  /** Also copy run.json here at the end. */
  readonly json?: string;
  readonly verbosity: Verbosity;
  /** The terminal writer draws its live status block. */
  readonly tty: boolean;
  /** Use colors (see `shouldColor`). */
  readonly color: boolean;
  readonly out: Writable;
  /** Where the writers report their own trouble (a file they cannot write). */
  readonly err: Writable;
  readonly timeZone?: TimeZone;
  readonly now?: () => number;
  /** Minimum time between rewrites of run.json during the run. */
  readonly rewriteMs?: number;
}

/**
 * Call it (or its `finish` method) once the engine is done: it stops the live
 * display, closes the log files, writes the final run.json, the JUnit and
 * JSON copies, and detaches from the stream. Resolves to the final run.json.
 * Files that cannot be written are reported on `err`, never thrown.
 */
export interface AttachedWriters {
  (): Promise<RunJson>;
  finish(): Promise<RunJson>;
  readonly terminal: TerminalWriter;
  readonly results: ResultsWriter;
}

export function attachWriters(events: EventStream, options: AttachOptions): AttachedWriters {
  const complain = (what: string, err: unknown): void => {
    options.err.write(`troupe: cannot write ${what}: ${errorText(err)}\n`);
  };
  const terminal = new TerminalWriter({
    out: options.out,
    verbosity: options.verbosity,
    tty: options.tty,
    color: options.color,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const results = new ResultsWriter({
    runDir: options.runDir,
    ...(options.now ? { now: options.now } : {}),
    ...(options.rewriteMs !== undefined ? { rewriteMs: options.rewriteMs } : {}),
    onError: (err) => complain("results", err),
  });
  // A writer's bug must not stop the run: report it and go on.
  const off = events.on((e) => {
    try {
      results.handle(e);
    } catch (err) {
      complain("results", err);
    }
    try {
      terminal.handle(e);
    } catch (err) {
      complain("to the terminal", err);
    }
  });

  let done: Promise<RunJson> | undefined;
  const finish = (): Promise<RunJson> => {
    done ??= (async () => {
      off();
      terminal.close();
      const run = await results.finish();
      if (options.junit) await writeJUnit(run, options.junit).catch((err) => complain(options.junit!, err));
      if (options.json) await writeJson(run, options.json).catch((err) => complain(options.json!, err));
      return run;
    })();
    return done;
  };
  return Object.assign(finish, { finish, terminal, results });
}
