// The reporters of a run, wired to its event stream: what `troupe run`,
// `troupe spread` and `troupe play` (and the API's run() and play()) use.

import type { Writable } from "node:stream";
import type { EventStream } from "./events.js";
import type { TimeZone } from "./format.js";
import { ReporterHub } from "./hub.js";
import type { Reporter } from "./reporter.js";
import type { ArtifactLayout } from "./artifacts.js";
import type { RunModel } from "./model/run-model.js";
import { GitHubActions, type GitHubOptions } from "./reporters/github.js";
import { HookLogs } from "./reporters/hook-logs.js";
import { HostLogs } from "./reporters/host-logs.js";
import { HtmlReport } from "./reporters/html.js";
import { JsonCopy } from "./reporters/json-copy.js";
import { JUnitFile } from "./reporters/junit.js";
import { RunJsonFile } from "./reporters/run-json.js";
import { ScenarioResultsFile } from "./reporters/scenario-results.js";
import { ScenarioTerminal } from "./reporters/scenario-terminal.js";
import { TerminalReporter, type Verbosity } from "./reporters/terminal.js";

export interface ReportOptions {
  /** The run directory, `.troupe/runs/<run-id>`. */
  readonly runDir: string;
  /** The test matrix (run.json, hook logs, JUnit) or a scenario (scenario.json, host logs). */
  readonly kind: "run" | "scenario";
  /** Also write JUnit XML here at the end. */
  readonly junit?: string;
  /** Also copy the results file (run.json, scenario.json) here at the end. */
  readonly json?: string;
  /** Say where report.html is at the end (`--html`; it is written for every run and scenario). */
  readonly html?: boolean;
  readonly verbosity: Verbosity;
  /** The terminal reporter draws its live status block. */
  readonly tty: boolean;
  /** Use colors (see `shouldColor`). */
  readonly color: boolean;
  /** Where the terminal reporter prints; null: no terminal reporter. */
  readonly out: Writable | null;
  /** Where the reporters say their own trouble (a file they cannot write); null: nowhere. */
  readonly err: Writable | null;
  readonly timeZone?: TimeZone;
  /** -vv lines of single-host jobs as they are, also when jobs run at once (Spread projects). */
  readonly unprefixedOutput?: boolean;
  /** How `artifactsDir` is laid out (report/artifacts.ts). */
  readonly artifactLayout?: ArtifactLayout;
  readonly now?: () => number;
  /** Under GitHub Actions: annotations and the step summary (runs and scenarios). */
  readonly github?: GitHubOptions;
  /** Minimum time between rewrites of run.json during the run. */
  readonly rewriteMs?: number;
  /** Where `--artifacts` puts each job's artifacts: the HTML report links them. */
  readonly artifactsDir?: string;
  /** The live dashboard (`--serve`), already listening: it shows this run. */
  readonly live?: Reporter & { watch(model: RunModel): void };
}

/** The hub, listening to `events`, with the reporters `o` asks for; call `finish()` once the run is over. */
export function attachReporters(events: EventStream, o: ReportOptions): ReporterHub {
  const now = o.now ?? Date.now;
  const reporters: Reporter[] = [];
  if (o.kind === "run") {
    reporters.push(new HookLogs(o.runDir, now));
    reporters.push(new RunJsonFile(o.runDir, { now, ...(o.rewriteMs !== undefined ? { rewriteMs: o.rewriteMs } : {}) }));
    if (o.junit) reporters.push(new JUnitFile(o.junit, now));
    if (o.json) reporters.push(new JsonCopy(o.json, now));
    reporters.push(new HtmlReport(o.runDir, o.html ? (o.out ?? undefined) : undefined, now, "run", o.artifactsDir, o.artifactLayout));
    if (o.out) {
      reporters.push(
        new TerminalReporter({
          out: o.out,
          verbosity: o.verbosity,
          tty: o.tty,
          color: o.color,
          now,
          ...(o.timeZone ? { timeZone: o.timeZone } : {}),
          ...(o.unprefixedOutput ? { unprefixedOutput: true } : {}),
        }),
      );
    }
  } else {
    reporters.push(new HostLogs(o.runDir));
    reporters.push(new ScenarioResultsFile(o.runDir, o.json));
    if (o.junit) reporters.push(new JUnitFile(o.junit, now, "scenario"));
    reporters.push(new HtmlReport(o.runDir, o.html ? (o.out ?? undefined) : undefined, now, "scenario"));
    if (o.out) {
      reporters.push(
        new ScenarioTerminal({
          out: o.out,
          verbosity: Math.max(0, o.verbosity) as 0 | 1 | 2,
          color: o.color,
          tty: o.tty,
          now,
          ...(o.timeZone ? { timeZone: o.timeZone } : {}),
        }),
      );
    }
  }
  if (o.github) reporters.push(new GitHubActions(o.github));
  if (o.live) reporters.push(o.live);
  const err = o.err;
  const hub = new ReporterHub(reporters, { now, batch: true, ...(err ? { complain: (text: string) => void err.write(text + "\n") } : {}) });
  o.live?.watch(hub.model);
  return hub.attach(events);
}
