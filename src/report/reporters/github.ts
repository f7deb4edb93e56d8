// Under GitHub Actions (GITHUB_ACTIONS=true): an `::error` annotation per
// failed job and failed hook, pointing at where it is written (the task's
// task.yaml, the hook's key in the project file), a `::warning` per aborted
// job, and a job summary appended to $GITHUB_STEP_SUMMARY: a table of the
// jobs, failures first. For a scenario (`troupe play`), the same per failed
// step, at its job in the scenario file (github-scenario.ts). Written once
// the run is over.

import { appendFile } from "node:fs/promises";
import { relative } from "node:path";
import type { Writable } from "node:stream";
import type { SourcePos } from "../../model/position.js";
import type { FailedHook } from "../events.js";
import { formatElapsed } from "../format.js";
import { annotationCommand, markdownCell, markdownCode, type Annotation } from "../github.js";
import type { RunModel } from "../model/run-model.js";
import type { HookState, JobState } from "../model/state.js";
import type { Reporter } from "../reporter.js";
import type { SourceLocator } from "../source-index.js";
import { neutralize } from "../terminal-safe.js";
import { scenarioAnnotations, scenarioSummary, type StepLocator } from "./github-scenario.js";

export interface GitHubOptions {
  /** Where the workflow commands go (the step's output). */
  readonly out: Writable;
  /** $GITHUB_STEP_SUMMARY, when set. */
  readonly summaryFile?: string;
  /** $GITHUB_WORKSPACE (default: the current directory): file paths are relative to it. */
  readonly workspace: string;
  readonly locate?: SourceLocator;
  /** For a scenario: where each job of each stage is written. */
  readonly locateStep?: StepLocator;
}

/**
 * The reporter's options under GitHub Actions (GITHUB_ACTIONS=true), none
 * otherwise or when the run prints nothing (`out` null: the API, quiet).
 * The workflow commands go to the step's output: stdout, or stderr when
 * stdout has the results (`--json` alone, `json` "-").
 */
export function githubOption(
  out: Writable | null,
  json: string | undefined,
  where: Pick<GitHubOptions, "locate" | "locateStep">,
  env: NodeJS.ProcessEnv = process.env,
): { github?: GitHubOptions } {
  if (env["GITHUB_ACTIONS"] !== "true" || out === null) return {};
  return {
    github: {
      out: json === "-" ? process.stderr : process.stdout,
      workspace: env["GITHUB_WORKSPACE"] || process.cwd(),
      ...where,
      ...(env["GITHUB_STEP_SUMMARY"] ? { summaryFile: env["GITHUB_STEP_SUMMARY"] } : {}),
    },
  };
}

/** Lines of a failed script's output an annotation shows (its end). */
const OUTPUT_LINES = 20;
/** Rows of passed jobs the summary lists; failures are always all listed. */
const PASSED_ROWS = 200;

function lastLines(text: string | undefined, n = OUTPUT_LINES): string {
  const lines = neutralize((text ?? "").trimEnd()).split("\n");
  return (lines.length > n ? ["...", ...lines.slice(-n)] : lines).join("\n");
}

function failedHookOf(job: JobState): HookState | undefined {
  return job.hooks.find((h) => h.done && (h.exitCode !== 0 || h.killedBy !== undefined) && h.phase !== "debug");
}

export class GitHubActions implements Reporter {
  constructor(private readonly o: GitHubOptions) {}

  async finish(run: RunModel): Promise<void> {
    if (run.scenario) {
      const locate = this.o.locateStep;
      const at: StepLocator = (stage, job) => this.relative(locate?.(stage, job));
      return this.write(
        scenarioAnnotations(run.scenario, at, (t) => lastLines(t)),
        () => scenarioSummary(run.scenario!, run.runId, run.dir),
      );
    }
    if (run.noJobs || run.jobs.size === 0) return;
    return this.write(this.annotations(run), () => this.summary(run));
  }

  private async write(annotations: readonly Annotation[], summary: () => string): Promise<void> {
    const lines = annotations.map((a) => annotationCommand(a) + "\n");
    if (lines.length) this.o.out.write(lines.join(""));
    if (this.o.summaryFile) {
      try {
        await appendFile(this.o.summaryFile, summary());
      } catch (err) {
        throw new Error(`cannot append to $GITHUB_STEP_SUMMARY (${this.o.summaryFile}): ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private pos(level: FailedHook["level"], phase: FailedHook["phase"], context: string): Annotation["pos"] {
    return this.relative(this.o.locate?.({ level, phase, context }));
  }

  private relative(p: SourcePos | undefined): SourcePos | undefined {
    return p ? { ...p, file: relative(this.o.workspace, p.file) || p.file } : undefined;
  }

  private annotations(run: RunModel): Annotation[] {
    const out: Annotation[] = [];
    const said = new Set<string>();
    for (const name of run.failed) {
      const job = run.job(name);
      const hook = job && failedHookOf(job);
      const phase = hook?.phase ?? "execute";
      said.add(`${name}\u0000${phase}`);
      const why = job?.reason ?? (hook ? `${phase} failed on ${run.who(name, hook.host)}: ${hook.error ?? "failed"}` : "failed");
      out.push({
        kind: "error",
        title: `troupe: ${name} failed`,
        message: hook?.output?.trim() ? `${why}\n${lastLines(hook.output)}` : why,
        ...this.posProp("task", phase, name),
      });
    }
    for (const f of run.failedHooks) {
      const key = `${f.context}\u0000${f.phase}`;
      if (said.has(key)) continue;
      said.add(key);
      const what = f.phase === "artifacts" ? "fetching artifacts" : `${f.level} ${f.phase}`;
      const hook = [...run.runHooks, ...(run.job(f.context)?.hooks ?? [])].find(
        (h) => h.phase === f.phase && h.host === f.host && h.context === f.context,
      );
      const why = `${what} failed on ${f.as ?? f.host}${f.error ? `: ${f.error}` : ""}`;
      out.push({
        kind: "error",
        title: `troupe: ${what} failed (${f.context})`,
        message: hook?.output?.trim() ? `${why}\n${lastLines(hook.output)}` : why,
        ...this.posProp(f.level, f.phase, f.context),
      });
    }
    for (const name of run.aborted) {
      out.push({
        kind: "warning",
        title: `troupe: ${name} aborted`,
        message: run.job(name)?.reason ?? "aborted",
        ...this.posProp("task", "execute", name),
      });
    }
    return out;
  }

  private posProp(level: FailedHook["level"], phase: FailedHook["phase"], context: string): { pos?: Annotation["pos"] } {
    const pos = this.pos(level, phase, context);
    return pos ? { pos } : {};
  }

  private summary(run: RunModel): string {
    const jobs = [...run.jobs.values()];
    const rank = { failed: 0, aborted: 1, running: 1, skipped: 2, passed: 3 } as const;
    jobs.sort((a, b) => rank[a.status] - rank[b.status] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const failed = run.failed.length;
    const verdict = failed > 0 || run.failedHooks.length > 0 ? "failed" : run.aborted.length > 0 ? "aborted jobs" : "passed";
    let md = `### troupe run ${markdownCell(run.runId)}: ${verdict}\n\n`;
    md += `${run.passed.length} passed, ${failed} failed, ${run.aborted.length} aborted`;
    if (run.startMs !== undefined && run.endMs !== undefined) md += ` in ${formatElapsed(run.endMs - run.startMs)}`;
    md += `; results in ${markdownCode(run.dir)}\n\n`;
    if (run.failedHooks.length > 0) {
      md += "| failed hook | where | host | why |\n| --- | --- | --- | --- |\n";
      for (const f of run.failedHooks) {
        md += `| ${f.level} ${f.phase} | ${markdownCode(f.context)} | ${markdownCell(f.as ?? f.host)} | ${markdownCell(neutralize(f.error ?? ""))} |\n`;
      }
      md += "\n";
    }
    md += "| | job | duration | why |\n| --- | --- | --- | --- |\n";
    let passedRows = 0;
    let hidden = 0;
    for (const j of jobs) {
      if (j.status === "passed" && passedRows++ >= PASSED_ROWS) {
        hidden++;
        continue;
      }
      const hook = j.status === "failed" ? failedHookOf(j) : undefined;
      const why = j.reason ?? (hook ? `${hook.phase} failed on ${run.who(j.name, hook.host)}: ${hook.error ?? ""}` : "");
      const icon = j.status === "passed" ? "✅" : j.status === "failed" ? "❌" : "⚠️";
      md += `| ${icon} ${j.status} | ${markdownCode(j.name)} | ${formatElapsed(j.durationMs)} | ${markdownCell(neutralize(why))} |\n`;
    }
    if (hidden > 0) md += `\n${hidden} more passed jobs are in run.json.\n`;
    return md + "\n";
  }
}
