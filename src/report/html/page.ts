// The run's report as one self-contained HTML page (`report.html` in the
// run's folder): no server, no network, nothing to install. Made from
// run.json alone, so any run.json can be rendered again.
//
// Failures come first, each with the output of the scripts that failed; then
// a timeline with one lane per host (each script a bar: a multi-host job is
// one bar per host, a wait at a barrier is the gap inside them); then every
// job with its status, duration, hosts and logs; then the hosts. A filter by
// status and a search box narrow the jobs; they need JavaScript, the rest of
// the page does not. Logs are links relative to the page, so they open from
// the run's folder as it is on disk or as a CI system keeps it.

import { formatElapsed } from "../format.js";
import type { HookJson, HostJson, JobJson, RunJson } from "../run-json.js";
import { escapeHtml, attr } from "./escape.js";
import { timelineSection, type Bar } from "./timeline.js";
import { filterableTable, JOB_STATUSES, pageHtml, status, type PageOptions, type PageParts } from "./shell.js";
import { compareBytes } from "../../util/code-unit-order.js";

const ORDER: Record<string, number> = Object.fromEntries(JOB_STATUSES.map((s, i) => [s, i]));

function logLink(path: string | undefined, text = path): string {
  return path ? `<a href="${attr(path)}">${escapeHtml(text ?? path)}</a>` : "";
}

/** `<span title=...>` with the exact time, showing the short one. */
function when(iso: string | undefined): string {
  return iso ? `<time datetime="${attr(iso)}" title="${attr(iso)}">${escapeHtml(iso.slice(11, 19))}</time>` : "";
}

function failedHookBlock(h: HookJson): string {
  const who = h.as !== undefined && h.as !== h.host ? `${h.as} (${h.host})` : h.host;
  const what = `${h.level === "task" ? "" : `${h.level} `}${h.phase} on ${who || "-"}`;
  const exit = h.killedBy ? `killed (${h.killedBy})` : `exit status ${h.exitCode}`;
  return (
    `<div class="script"><div class="what">${escapeHtml(what)}: ${escapeHtml(h.error ?? exit)} ` +
    `<span class="dim">${escapeHtml(formatElapsed(h.durationMs))}</span> ${logLink(h.logPath, "log")}</div>` +
    `<pre>${escapeHtml(h.output ?? "")}</pre></div>`
  );
}

function failures(run: RunJson): string {
  const jobs = run.jobs.filter((j) => j.status === "failed" || j.status === "aborted" || j.hooks.some((h) => h.status === "failed"));
  const hooks = run.hooks.filter((h) => h.status === "failed");
  if (!jobs.length && !hooks.length) return `<section id="failures"><h2>Failures</h2><p class="ok">Nothing failed.</p></section>`;
  // Failed, then aborted, ...; among them in the order they ran, those that never started (seq 0) last.
  const ran = (j: JobJson): number => (j.seq > 0 ? j.seq : Number.MAX_SAFE_INTEGER);
  const sorted = [...jobs].sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || ran(a) - ran(b));
  let out = `<section id="failures"><h2>Failures</h2>`;
  for (const h of hooks) {
    out += `<article class="failure"><h3>${status("failed")} ${escapeHtml(`${h.level} ${h.phase}`)} <code>${escapeHtml(h.context)}</code></h3>`;
    out += failedHookBlock(h) + `</article>`;
  }
  for (const j of sorted) {
    out += `<article class="failure" id="fail-${attr(String(j.seq))}"><h3>${status(j.status)} <code>${escapeHtml(j.name)}</code></h3>`;
    if (j.reason) out += `<p class="reason">${escapeHtml(j.reason)}</p>`;
    for (const h of j.hooks.filter((x) => x.status === "failed")) out += failedHookBlock(h);
    out += `</article>`;
  }
  return out + `</section>`;
}

/** One lane per host, one bar per script on it, on one time axis. */
function timeline(run: RunJson): string {
  const start = Date.parse(run.startTime);
  // Each script with what it belongs to: its job, or the level's context (`backend:system`).
  const hooks: (HookJson & { readonly owner: string })[] = [
    ...run.hooks.map((h) => ({ ...h, owner: h.context })),
    ...run.jobs.flatMap((j) => j.hooks.map((h) => ({ ...h, owner: j.name }))),
  ];
  const lanes = [...new Set([...run.hosts.map((h) => h.name), ...hooks.map((h) => h.host).filter((h) => h !== "")])];
  const bars: Bar[] = hooks.map((h) => {
    const from = Date.parse(h.startTime);
    return {
      lane: h.host,
      startMs: from,
      endMs: Date.parse(h.endTime ?? "") || from + h.durationMs,
      classes: [h.status, h.phase],
      title: `${h.owner} ${h.level === "task" ? "" : `${h.level} `}${h.phase} on ${h.as ?? h.host}: ${h.status}, ${formatElapsed(h.durationMs)}`,
    };
  });
  // Multi-host jobs: each host's waits on its peers, over its script's bar.
  for (const j of run.jobs) {
    for (const w of j.waits ?? []) {
      const from = Date.parse(w.startTime);
      bars.push({
        lane: w.host,
        startMs: from,
        endMs: from + w.durationMs,
        classes: ["wait", w.ok ? "passed" : "failed"],
        title: `${j.name}: ${w.as} waits (${w.what})${w.ok ? "" : ", in vain"}, ${formatElapsed(w.durationMs)}`,
        thin: true,
      });
    }
  }
  return timelineSection("timeline of hosts and scripts", lanes, bars, start, run.durationMs);
}

function jobRow(j: JobJson, artifacts: ReadonlyMap<string, string>): string {
  const hosts = j.hosts
    .map((h) => {
      const who = h.as !== undefined && h.as !== h.name ? `${h.as} (${h.name})` : h.name;
      return `${escapeHtml(who)} ${status(h.status)} ${logLink(h.logPath, "log")}`;
    })
    .join("<br>");
  const search = [j.name, j.reason ?? "", ...j.hosts.map((h) => `${h.name} ${h.as ?? ""}`)].join(" ").toLowerCase();
  return (
    `<tr data-status="${attr(j.status)}" data-search="${attr(search)}"><td>${status(j.status)}</td>` +
    `<td><code>${escapeHtml(j.name)}</code>${j.reason ? `<div class="reason">${escapeHtml(j.reason)}</div>` : ""}</td>` +
    `<td class="num">${escapeHtml(formatElapsed(j.durationMs))}</td><td>${when(j.startTime)}</td><td>${hosts}</td>` +
    `<td>${j.dir ? logLink(`${j.dir}/`, j.dir) : ""}${artifacts.has(j.name) ? ` ${logLink(artifacts.get(j.name), "artifacts")}` : ""}</td></tr>`
  );
}

function jobsTable(run: RunJson, artifacts: ReadonlyMap<string, string>): string {
  const rows = [...run.jobs].sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || compareBytes(a.name, b.name));
  return filterableTable({
    id: "jobs",
    title: "Jobs",
    noun: "jobs",
    statuses: JOB_STATUSES,
    placeholder: "Search jobs, hosts, reasons",
    head: ["status", "job", "duration", "started", "hosts", "logs"],
    rows: rows.map((j) => jobRow(j, artifacts)),
  });
}

function hostRow(h: HostJson): string {
  const fate = h.broken ? `broken: ${h.broken}` : h.kept ? "kept" : (h.discardReason ?? "");
  return (
    `<tr><td><code>${escapeHtml(h.name)}</code></td><td>${escapeHtml(`${h.backend}:${h.system}`)}</td><td>${escapeHtml(h.address)}</td>` +
    `<td>${when(h.allocatedTime)}</td><td>${when(h.discardedTime)}</td><td>${escapeHtml(fate)}${h.reused ? " (reused)" : ""}</td></tr>`
  );
}

function hostsTable(run: RunJson): string {
  if (!run.hosts.length) return "";
  return (
    `<section id="hosts"><h2>Hosts</h2><table><thead><tr><th>host</th><th>system</th><th>address</th><th>allocated</th><th>discarded</th><th></th></tr></thead>` +
    `<tbody>${run.hosts.map(hostRow).join("")}</tbody></table></section>`
  );
}

/** The parts of the page that change as the run goes on (the live dashboard sends them again). */
export function reportParts(run: RunJson, artifacts: ReadonlyMap<string, string> = new Map()): PageParts {
  const t = run.totals;
  const verdict =
    run.status === "interrupted" || run.status === "running" || run.status === "killed"
      ? run.status
      : t.failed || t.aborted || run.failedHooks.length
        ? "failed"
        : "passed";
  const title = `troupe run ${run.runId}: ${verdict}`;
  const summary =
    `<p class="summary">${status(verdict)} ${t.jobs} jobs: ${t.passed} passed, ${t.failed} failed, ${t.aborted} aborted` +
    `${t.skipped ? `, ${t.skipped} skipped` : ""}${run.failedHooks.length ? `; ${run.failedHooks.length} scripts failed` : ""}` +
    ` <span class="dim">in ${escapeHtml(formatElapsed(run.durationMs))}, started ${escapeHtml(run.startTime)}, seed ${run.seed},` +
    ` <a href="run.json">run.json</a></span></p>`;
  return {
    title,
    verdict,
    header: `<h1>${escapeHtml(title)}</h1>${summary}`,
    main: failures(run) + timeline(run) + jobsTable(run, artifacts) + hostsTable(run),
  };
}

/** The whole page, its data in it; `live`: it also follows the run from the server that serves it. */
export function reportPage(run: RunJson, o: PageOptions & { readonly artifacts?: ReadonlyMap<string, string> } = {}): string {
  return pageHtml(reportParts(run, o.artifacts), o);
}
