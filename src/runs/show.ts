// What `troupe runs` and `troupe runs show` print: a line per run, and a
// run's summary with its failures, the end of their output and where their
// logs are.

import { relative } from "node:path";
import { formatElapsed } from "../report/format.js";
import type { RunRecord } from "./records.js";

/** Lines of a failure's output shown: the log has the rest. */
const TAIL_LINES = 20;

function counts(r: RunRecord): string {
  const c = r.counts;
  if (!c) return "-";
  const noun = r.kind === "scenario" ? "steps" : "jobs";
  const parts = [`${c.passed} passed`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.aborted) parts.push(`${c.aborted} ${r.kind === "scenario" ? "stopped" : "aborted"}`);
  if (c.skipped) parts.push(`${c.skipped} ${r.kind === "scenario" ? "ignored" : "skipped"}`);
  return `${c.total} ${noun}: ${parts.join(", ")}`;
}

function started(r: RunRecord): string {
  return r.startTime ? r.startTime.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-";
}

/** A table of runs, oldest first, the newest last (where the eye lands). */
export function runsTable(runs: readonly RunRecord[]): string {
  if (!runs.length) return "No runs yet.\n";
  const rows = runs.map((r) => [
    r.id,
    started(r),
    r.kind === "scenario" ? "play" : r.kind,
    r.status,
    r.durationMs !== undefined ? formatElapsed(r.durationMs) : "-",
    counts(r),
  ]);
  const head = ["ID", "STARTED", "KIND", "STATUS", "TOOK", "RESULTS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [head, ...rows].map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

function tail(text: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const shown = lines.slice(-TAIL_LINES);
  return (lines.length > shown.length ? [`    | (... ${lines.length - shown.length} lines before)`] : [])
    .concat(shown.map((l) => `    | ${l}`))
    .join("\n");
}

/** Paths as the user can open them: relative to here when inside it. */
function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") ? path : rel;
}

/** One run: what it was, how it ended, and each failure with the end of its output and its log. */
export function runSummary(r: RunRecord, cwd: string): string {
  const out: string[] = [];
  out.push(`${r.kind === "scenario" ? "play" : "run"} ${r.id}: ${r.status}`);
  const took = r.durationMs !== undefined ? `, took ${formatElapsed(r.durationMs)}` : "";
  const seed = r.run ? `, seed ${r.run.seed}` : "";
  out.push(`  started ${started(r)}${took}${seed}`);
  out.push(`  ${counts(r)}`);
  out.push(`  results: ${shown(r.dir, cwd)}/${r.report ? " (report.html)" : ""}`);
  if (r.killed) out.push(`  killed: its process ended without finishing the run (kill -9, a crash or a reboot)`);
  const fails: string[] = [];
  const log = (p: string | undefined): string => (p ? `    log: ${shown(`${r.dir}/${p}`, cwd)}` : "");
  if (r.run) {
    for (const h of r.run.hooks.filter((x) => x.status === "failed")) {
      fails.push(
        `  failed  ${h.level} ${h.phase} ${h.context} on ${h.host}: ${h.error ?? `exit status ${h.exitCode}`}`,
        log(h.logPath),
        tail(h.output ?? ""),
      );
    }
    const bad = r.run.jobs.filter((j) => j.status === "failed" || j.status === "aborted" || j.hooks.some((h) => h.status === "failed"));
    for (const j of bad) {
      fails.push(`  ${j.status.padEnd(7)} ${j.name}${j.reason ? `: ${j.reason}` : ""}`);
      for (const h of j.hooks.filter((x) => x.status === "failed")) {
        fails.push(`    ${h.phase} on ${h.as ?? h.host}: ${h.error ?? `exit status ${h.exitCode}`}`, log(h.logPath), tail(h.output ?? ""));
      }
    }
  }
  if (r.scenario) {
    if (r.scenario.error) fails.push(`  error   ${r.scenario.error}`);
    for (const st of r.scenario.stages) {
      for (const x of st.steps.filter((s) => s.status === "failed" || s.status === "ignored")) {
        fails.push(
          `  ${x.status.padEnd(7)} ${st.name} / ${x.job}${x.item !== undefined ? ` [${x.item}]` : ""} on ${x.host}: ${x.error ?? `exit status ${x.exitCode}`}`,
          log(`logs/${x.host}.log`),
          tail(x.output ?? ""),
        );
      }
    }
  }
  const body = fails.filter((l) => l !== "");
  if (body.length) out.push("", "Failures:", ...body);
  return out.join("\n") + "\n";
}
