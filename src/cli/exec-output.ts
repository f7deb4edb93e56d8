// What `troupe exec` prints and writes, apart from running the command: the
// live lines (prefixed by host, or not), a file per host, the JSON results
// and JUnit. Host output is neutralised before it reaches the terminal
// (report/terminal-safe.ts); the files get it as it came.

import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { HostOutcome } from "../api/fanout.js";
import { makeColors } from "../report/colors.js";
import { neutralize } from "../report/terminal-safe.js";
import { seconds } from "../report/format.js";
import { escapeText, openTag } from "../report/xml.js";
import { portableSegment } from "../util/portable-name.js";
import { TroupeError } from "../util/errors.js";

export interface LiveOptions {
  /** `host: ` before each line (pdsh's way); false: the line alone (`-N`). */
  readonly prefix: boolean;
  readonly color: boolean;
  /** Names, for the width of the prefix. */
  readonly hosts: readonly string[];
}

/** Writes each line as it comes, on stdout or stderr as the host wrote it. */
export function liveLines(o: LiveOptions): (host: string, line: string, stream: "stdout" | "stderr", partial: boolean) => void {
  const width = Math.max(0, ...o.hosts.map((h) => h.length));
  const c = makeColors(o.color);
  const open = new Set<string>();
  return (host, line, stream, partial) => {
    const out = stream === "stdout" ? process.stdout : process.stderr;
    // The rest of a long line comes without a new prefix.
    const key = `${host}\u0000${stream}`;
    const head = o.prefix && !open.has(key) ? c.cyan(host.padEnd(width)) + ": " : "";
    if (partial) open.add(key);
    else open.delete(key);
    out.write(head + neutralize(line) + (partial ? "" : "\n"));
  };
}

/**
 * `--output-dir DIR`: every byte a host printed, in DIR/<host>.log, both
 * streams in the order they came. A file is open only while its host's
 * command runs, so a fleet of thousands holds at most --workers files.
 */
export class HostFiles {
  private readonly fds = new Map<string, number>();

  constructor(readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new TroupeError("E_USAGE", `--output-dir ${dir}: ${(err as Error).message}`);
    }
  }

  /** The file of `host`: its name, made safe for every file system and CI uploader. */
  pathOf(host: string): string {
    return join(this.dir, `${portableSegment(host)}.log`);
  }

  line(host: string, text: string, partial: boolean): void {
    let fd = this.fds.get(host);
    if (fd === undefined) {
      fd = openSync(this.pathOf(host), "w");
      this.fds.set(host, fd);
    }
    writeSync(fd, partial ? text : text + "\n");
  }

  /** The host is done: its file is closed (and made, empty, when it printed nothing). */
  done(host: string): void {
    const fd = this.fds.get(host) ?? openSync(this.pathOf(host), "w");
    this.fds.delete(host);
    closeSync(fd);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** One host's result as `--json` prints it. */
export interface ExecJsonResult {
  readonly host: string;
  readonly exit: number;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** The end of what it printed, both streams in order (the last `OUTPUT_TAIL` characters). */
  readonly output: string;
  readonly truncated: boolean;
  readonly error: string | null;
  /** Its `--output-dir` file, when there is one. */
  readonly file?: string;
}

/** How much of each host's output `--json` and `--junit` keep: its end. */
export const OUTPUT_TAIL = 64 * 1024;

export function toJsonResults(results: readonly HostOutcome[], files?: HostFiles): ExecJsonResult[] {
  return results.map((r) => ({
    host: r.name,
    exit: r.exitCode,
    signal: r.signal ?? null,
    timedOut: !!r.timedOut,
    durationMs: r.durationMs,
    output: r.output,
    truncated: !!r.truncated,
    error: r.error ?? null,
    ...(files ? { file: files.pathOf(r.name) } : {}),
  }));
}

/** JUnit XML: one test suite, the command; a test case per host, failed when its exit status is not 0. */
export function toJUnit(command: string, results: readonly HostOutcome[]): string {
  const failures = results.filter((r) => r.exitCode !== 0).length;
  const time = Math.max(0, ...results.map((r) => r.durationMs));
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n`;
  xml += openTag("testsuites", { name: "troupe exec", tests: results.length, failures, errors: 0, time: seconds(time) }) + "\n";
  xml += "  " + openTag("testsuite", { name: command, tests: results.length, failures, errors: 0, skipped: 0, time: seconds(time) }) + "\n";
  for (const r of results) {
    xml += "    " + openTag("testcase", { classname: "exec", name: r.name, time: seconds(r.durationMs) });
    if (r.exitCode !== 0) {
      const why = r.timedOut ? "timed out" : (r.error ?? `exit status ${r.exitCode}`);
      xml += "\n      " + openTag("failure", { message: why, type: r.timedOut ? "timeout" : "exit" });
      xml += escapeText(r.output) + "</failure>\n    ";
    } else if (r.output) {
      xml += `\n      <system-out>${escapeText(r.output)}</system-out>\n    `;
    }
    xml += "</testcase>\n";
  }
  return xml + "  </testsuite>\n</testsuites>\n";
}
