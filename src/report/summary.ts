// The end-of-run summary, in Spread's shape (spread/runner.go, stats.log):
//
//   Successful tasks: 3
//   Aborted tasks: 1
//   Failed tasks: 1
//       - local:debian-12:tests/main/hello
//   Failed suite prepare: 1
//       - local:debian-12:tests/other/
//
// A failed multi-host job's line says why, naming the host (troupe's own:
// Spread has no such jobs): `- local:debian:cluster/http (execute failed on
// lead: exit status 1)`.
//
// The first two lines always appear; each failure category only when it is
// not empty, in Spread's order, names sorted. troupe adds (after Spread's
// lines, so that what reads Spread's summary still reads it) the names of
// the aborted jobs under their count, each with why it was aborted, and
// (the terminal gives them with -v) the slowest jobs of a run of more than
// one job, with their durations:
//
//   Aborted tasks: 1
//       - local:debian-12:tests/main/slow (interrupted)
//   ...
//   Slowest tasks:
//       - local:debian-12:tests/main/big (2m05s)
//       - local:debian-12:tests/main/hello (3.1s) Names are Spread's: the job name
// without its `#sample` for tasks, `backend:system:suite/` for suites,
// `backend:system:BACKEND` for backends and `backend:system:project` for the
// project.

import type { Level, Phase } from "./events.js";
import { formatElapsed } from "./format.js";
import { summaryName } from "./names.js";

/** A failed hook, as the summary counts it. */
export interface HookFailure {
  readonly level: Level;
  /** Only prepare and restore failures have a summary line, as in Spread. */
  readonly phase: Phase;
  /** The job name (task level) or the context string (`backend:system[:suite/]`). */
  readonly name: string;
  /** The host it failed on (a hook of another level than task counts once per host). */
  readonly host?: string;
}

export interface SummaryInput {
  readonly passed: readonly string[];
  readonly failed: readonly string[];
  readonly aborted: readonly string[];
  readonly hookFailures: readonly HookFailure[];
  /** Said after a failed job's name, in parentheses: why a multi-host job failed. */
  readonly notes?: ReadonlyMap<string, string>;
  /** Why each aborted job was aborted, said after its name. */
  readonly abortReasons?: ReadonlyMap<string, string>;
  /** Jobs that ran, with how long they took: the slowest few are listed when there are two or more. */
  readonly durations?: readonly { readonly name: string; readonly ms: number }[];
}

/** How many of the slowest jobs the summary lists. */
export const SLOWEST_SHOWN = 5;

const CATEGORIES: readonly { level: Level; phase: Phase; title: string }[] = [
  { level: "task", phase: "prepare", title: "Failed task prepare" },
  { level: "task", phase: "restore", title: "Failed task restore" },
  { level: "suite", phase: "prepare", title: "Failed suite prepare" },
  { level: "suite", phase: "restore", title: "Failed suite restore" },
  { level: "backend", phase: "prepare", title: "Failed backend prepare" },
  { level: "backend", phase: "restore", title: "Failed backend restore" },
  { level: "project", phase: "prepare", title: "Failed project prepare" },
  { level: "project", phase: "restore", title: "Failed project restore" },
];

/** The name Spread lists for a failed hook at `level`. */
export function hookSummaryName(f: HookFailure): string {
  switch (f.level) {
    case "task":
      return summaryName(f.name);
    case "suite":
      return f.name;
    case "backend": {
      const backend = f.name.split(":")[0] ?? f.name;
      return `${contextOf(f.name)}:${backend}`;
    }
    case "project":
      return `${contextOf(f.name)}:project`;
  }
}

/** `backend:system` out of a context string or job name. */
function contextOf(name: string): string {
  return name.split(":").slice(0, 2).join(":");
}

const DASH = "\n    - ";

function names(title: string, list: readonly string[]): string | undefined {
  if (list.length === 0) return undefined;
  const sorted = [...list].sort();
  return `${title}: ${sorted.length}${DASH}${sorted.join(DASH)}`;
}

/** One entry of the summary, and how it reads: good news, a failure, or plain. */
export interface SummaryEntry {
  readonly text: string;
  readonly tone: "good" | "bad" | "plain";
}

/**
 * The summary as log entries: each entry is printed with one time prefix; a
 * category's names follow on their own lines, indented with `    - `.
 */
export function formatSummary(s: SummaryInput): SummaryEntry[] {
  const out: SummaryEntry[] = [
    { text: `Successful tasks: ${s.passed.length}`, tone: "good" },
    {
      text:
        s.aborted.length === 0
          ? "Aborted tasks: 0"
          : (names(
              "Aborted tasks",
              s.aborted.map((job) => {
                const why = s.abortReasons?.get(job);
                return why ? `${summaryName(job)} (${why})` : summaryName(job);
              }),
            ) ?? ""),
      tone: "plain",
    },
  ];
  const failed = names(
    "Failed tasks",
    s.failed.map((job) => {
      const note = s.notes?.get(job);
      return note ? `${summaryName(job)} (${note})` : summaryName(job);
    }),
  );
  if (failed) out.push({ text: failed, tone: "bad" });
  const seen = new Set<string>();
  for (const c of CATEGORIES) {
    const list: string[] = [];
    for (const f of s.hookFailures) {
      if (f.level !== c.level || f.phase !== c.phase) continue;
      // Task-level failures count once per job; others once per host, as Spread counts per worker.
      const key = [f.level, f.phase, f.name, f.level === "task" ? "" : (f.host ?? "")].join("\u0000");
      if (seen.has(key)) continue;
      seen.add(key);
      list.push(hookSummaryName(f));
    }
    const entry = names(c.title, list);
    if (entry) out.push({ text: entry, tone: "bad" });
  }
  const ran = [...(s.durations ?? [])].sort((a, b) => b.ms - a.ms || (a.name < b.name ? -1 : 1));
  if (ran.length >= 2) {
    // Samples are told apart here (`#2`): each ran on its own.
    const shown = ran
      .slice(0, SLOWEST_SHOWN)
      .map((d) => `${d.name} (${d.ms < 10_000 ? `${(d.ms / 1000).toFixed(1)}s` : formatElapsed(d.ms)})`);
    out.push({ text: `Slowest tasks:${DASH}${shown.join(DASH)}`, tone: "plain" });
  }
  return out;
}
