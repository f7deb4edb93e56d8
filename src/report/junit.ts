// JUnit XML from a run.json, for Jenkins, GitLab and GitHub test reports.
//
// - one <testsuite> per troupe suite on one system: name `backend:system:suite/`;
// - one <testcase> per job: classname `backend.system.suite` (dots inside
//   each part become `_`, so that Jenkins, which splits classnames at dots,
//   shows package `backend.system` and class `suite`), name the task within
//   its suite plus `:variant` and `#sample` (`hello:v1`);
// - a job with a failed script has <failure message=REASON type=PHASE>
//   holding the failing scripts' output: its execute, and also its prepare
//   (the job is then aborted, not run), its restore or an -each hook (the
//   job passed, but the host it broke did not), or a debug script; a
//   multi-host job has one testcase whose message names the failing hosts,
//   the first to fail first (by their names in the job: `failed on lead,
//   peer-1: execute failed on lead: exit status 1`), with each host's status,
//   exit status, duration and log in <system-out>;
// - a job aborted with no failed script of its own (its host broke, an
//   earlier level failed, the run was interrupted) has <error
//   message=REASON type="aborted"/>: it did not pass, and CI must say so;
// - a skipped job has <skipped message=REASON/>;
// - a failed suite, backend or project hook (which aborts jobs without being
//   one) is a testcase of its own, `suite prepare on HOST`, so it is seen;
// - times are seconds with millisecond precision.
//
// toJUnit is pure, so a report can be made again from any run.json.

import { makeDirs } from "../util/mkdirs.js";
import { dirname } from "node:path";
import { writeFileAtomic } from "./atomic.js";
import { formatElapsed, seconds } from "./format.js";
import { parseJobName } from "./names.js";
import type { HookJson, JobJson, RunJson } from "./run-json.js";
import { escapeText, openTag } from "./xml.js";

export interface Case {
  readonly classname: string;
  readonly name: string;
  readonly timeMs: number;
  readonly startTime?: string;
  readonly failure?: { readonly message: string; readonly type: string; readonly body: string };
  /** Did not run to an end of its own: aborted. */
  readonly error?: { readonly message: string; readonly type: string };
  readonly skipped?: string;
  readonly out: string;
}

function classPart(s: string): string {
  return s.replace(/\/+$/, "").replace(/\./g, "_");
}

function classname(backend: string, system: string, suite: string): string {
  return [backend, system, suite]
    .filter((p) => p !== "")
    .map(classPart)
    .join(".");
}

/** `hello:v1#2` for `tests/main/hello:v1#2` in suite `tests/main/`. */
function caseName(job: JobJson): string {
  const task = job.suite && job.task.startsWith(job.suite) ? job.task.slice(job.suite.length) : job.task;
  return task + (job.variant ? `:${job.variant}` : "") + (job.sample > 1 || /#\d+$/.test(job.name) ? `#${job.sample}` : "");
}

/** `restore failed on box-1: exit status 4`. */
function hookFailure(h: HookJson): string {
  const level = h.level === "task" ? "" : `${h.level} `;
  return `${level}${h.phase} failed on ${who(h.host, h.as)}: ${h.error ?? (h.exitCode === null ? "killed" : `exit status ${h.exitCode}`)}`;
}

function failed(h: HookJson): boolean {
  return h.status === "failed";
}

function hookLine(h: HookJson): string {
  const result =
    h.status === "running"
      ? "did not finish"
      : h.killedBy === "timeout"
        ? "kill-timeout reached"
        : h.killedBy
          ? `killed (${h.killedBy})`
          : `exit status ${h.exitCode}`;
  const log = h.logPath ? `, log ${h.logPath}` : "";
  return `${h.level === "task" ? "" : h.level + " "}${h.phase} on ${who(h.host, h.as)}: ${result} in ${formatElapsed(h.durationMs)}${log}`;
}

/** `client-1 (debian-3)` for a host of a multi-host job, else the host's name. */
function who(host: string, as: string | undefined): string {
  return as !== undefined && as !== host ? `${as} (${host})` : host || "-";
}

/** Failed scripts, the first to end first: in a multi-host job, the cause before what it poisoned. */
function failedInOrder(hooks: readonly HookJson[]): HookJson[] {
  return hooks.filter(failed).sort((a, b) => ((a.endTime ?? "") < (b.endTime ?? "") ? -1 : (a.endTime ?? "") > (b.endTime ?? "") ? 1 : 0));
}

function failureBody(hooks: readonly HookJson[]): string {
  const bad = failedInOrder(hooks);
  if (bad.length === 1) return bad[0]!.output ?? "";
  return bad.map((h) => `----- ${h.phase} on ${who(h.host, h.as)} -----\n${h.output ?? ""}`).join("\n");
}

function jobCase(job: JobJson): Case {
  const multi = job.hosts.length > 1;
  const lines = [`job: ${job.name}`, `status: ${job.status} in ${formatElapsed(job.durationMs)}`];
  if (job.dir) lines.push(`logs: ${job.dir}/`);
  if (job.reason) lines.push(`reason: ${job.reason}`);
  if (job.hosts.length > 0) {
    lines.push("hosts:");
    for (const h of job.hosts) {
      const exit = h.exitCode === null ? "" : `, exit status ${h.exitCode}`;
      const log = h.logPath ? `, log ${h.logPath}` : "";
      // Said only when the exit status does not say it all (killed, ERROR's message, a restore that failed).
      const error = h.error && h.error !== `execute: exit status ${h.exitCode}` ? ` (${h.error})` : "";
      lines.push(`  ${who(h.name, h.as)}: ${h.status}${error}${exit}, ${formatElapsed(h.durationMs)}${log}`);
    }
  }
  if (job.hooks.length > 0) {
    lines.push("scripts:");
    for (const h of job.hooks) lines.push(`  ${hookLine(h)}`);
  }
  const base = {
    classname: classname(job.backend, job.system, job.suite),
    name: caseName(job),
    timeMs: job.durationMs,
    ...(job.startTime ? { startTime: job.startTime } : {}),
    out: lines.join("\n"),
  };
  const bad = failedInOrder(job.hooks);
  if (job.status === "failed" || bad.length > 0) {
    const hosts = [...new Set(bad.map((h) => h.as ?? h.host))];
    if (multi && hosts.length === 0) {
      for (const h of job.hosts) if (h.status === "failed") hosts.push(h.as ?? h.name);
    }
    // A job that passed but whose restore (or -each hook) failed has no reason of its own: the script says it.
    const reason = job.status === "failed" || job.status === "aborted" ? (job.reason ?? "failed") : hookFailure(bad[0]!);
    const message = multi && hosts.length > 0 ? `failed on ${hosts.join(", ")}: ${reason}` : reason;
    const body = failureBody(job.hooks) || reason;
    return { ...base, failure: { message, type: bad[0]?.phase ?? "failure", body } };
  }
  if (job.status === "aborted") return { ...base, error: { message: job.reason ?? "aborted", type: "aborted" } };
  if (job.status === "skipped") return { ...base, skipped: job.reason ?? job.status };
  return base;
}

/** The suite key (`backend:system:suite/` or `backend:system`) and classname of a run-level hook. */
function hookPlace(h: HookJson): { key: string; classname: string } {
  const [backend = "", system = "", ...rest] = h.context.split(":");
  const suite = h.level === "suite" ? rest.join(":") : "";
  return { key: h.level === "suite" ? h.context : `${backend}:${system}`, classname: classname(backend, system, suite) };
}

function hookCase(h: HookJson, cls: string): Case {
  return {
    classname: cls,
    name: `${h.level} ${h.phase} on ${h.host || "-"}`,
    timeMs: h.durationMs,
    startTime: h.startTime,
    failure: {
      message: `${h.level} ${h.phase} failed on ${h.host || "-"} (${h.context})`,
      type: h.phase,
      body: h.output ?? "",
    },
    out: hookLine(h),
  };
}

/** JUnit timestamps have no zone and no fraction: `2016-06-02T12:34:56` (UTC). */
function stamp(iso: string | undefined): string | undefined {
  return iso ? iso.slice(0, 19) : undefined;
}

export function renderCase(c: Case): string {
  const attrs = { classname: c.classname, name: c.name, time: seconds(c.timeMs) };
  let s = `    ${openTag("testcase", attrs)}\n`;
  if (c.failure) {
    s += `      ${openTag("failure", { message: c.failure.message, type: c.failure.type })}${escapeText(c.failure.body)}</failure>\n`;
  }
  if (c.error) s += `      ${openTag("error", { message: c.error.message, type: c.error.type }, true)}\n`;
  if (c.skipped !== undefined) s += `      ${openTag("skipped", { message: c.skipped }, true)}\n`;
  if (c.out) s += `      <system-out>${escapeText(c.out)}</system-out>\n`;
  return s + "    </testcase>\n";
}

/** The JUnit XML document for a run. */
export function toJUnit(run: RunJson): string {
  const suites = new Map<string, Case[]>();
  const add = (key: string, c: Case): void => {
    const list = suites.get(key);
    if (list) list.push(c);
    else suites.set(key, [c]);
  };
  for (const job of run.jobs) {
    const p = job.backend ? job : { ...job, ...parseJobName(job.name) };
    add(`${p.backend}:${p.system}:${p.suite}`, jobCase(p));
  }
  for (const h of run.hooks) {
    if (!failed(h)) continue;
    const place = hookPlace(h);
    add(place.key, hookCase(h, place.classname));
  }

  return junitDocument(run.runId ? `troupe run ${run.runId}` : "troupe", run.startTime, run.durationMs, suites);
}

/** The document: a <testsuite> per key (sorted), its cases sorted by name, with their counts. */
export function junitDocument(name: string, startTime: string, durationMs: number, suites: ReadonlyMap<string, readonly Case[]>): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let totalMs = 0;
  let body = "";
  for (const key of [...suites.keys()].sort()) {
    const cases = [...suites.get(key)!].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const f = cases.filter((c) => c.failure).length;
    const e = cases.filter((c) => c.error).length;
    const s = cases.filter((c) => c.skipped !== undefined).length;
    const ms = cases.reduce((sum, c) => sum + c.timeMs, 0);
    const starts = cases
      .map((c) => c.startTime)
      .filter((t): t is string => t !== undefined)
      .sort();
    tests += cases.length;
    failures += f;
    errors += e;
    skipped += s;
    totalMs += ms;
    body += `  ${openTag("testsuite", {
      name: key,
      tests: cases.length,
      failures: f,
      errors: e,
      skipped: s,
      time: seconds(ms),
      timestamp: stamp(starts[0] ?? startTime),
    })}\n`;
    for (const c of cases) body += renderCase(c);
    body += "  </testsuite>\n";
  }
  const head = openTag("testsuites", {
    name,
    tests,
    failures,
    errors,
    skipped,
    time: seconds(durationMs || totalMs),
    timestamp: stamp(startTime),
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${head}\n${body}</testsuites>\n`;
}

/** Write the JUnit XML of `run` to `file` (atomically), creating its directory. */
export async function writeJUnit(run: RunJson, file: string): Promise<void> {
  await makeDirs(dirname(file));
  await writeFileAtomic(file, toJUnit(run));
}
