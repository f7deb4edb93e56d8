// The report of a scenario (`troupe play`): the same page as a run's (see
// page.ts, shell.ts), made from scenario.json. Failures first with their
// output; a timeline with one lane per host, a bar per step and a line where
// each stage starts; every step by stage, filtered by status and searched;
// the hosts with their logs (`logs/<host>.log`), the services and the
// variables at the end.

import { formatElapsed } from "../format.js";
import type { ScenarioJson, StepJson } from "../scenario-json.js";
import { attr, escapeHtml } from "./escape.js";
import { filterableRow, filterableTable, pageHtml, status, type PageOptions, type PageParts } from "./shell.js";
import { timelineSection, type Bar } from "./timeline.js";

/** Step statuses, failures first. */
export const STEP_STATUSES = ["failed", "stopped", "running", "ignored", "passed"] as const;
const ORDER: Record<string, number> = Object.fromEntries(STEP_STATUSES.map((s, i) => [s, i]));

interface PlacedStep extends StepJson {
  readonly stage: string;
  readonly stageIndex: number;
}

function stepsOf(s: ScenarioJson): PlacedStep[] {
  return s.stages.flatMap((st) => st.steps.map((x) => ({ ...x, stage: st.name, stageIndex: st.index })));
}

function stepName(x: PlacedStep): string {
  return `${x.stage} / ${x.job}${x.item !== undefined ? ` [${x.item}]` : ""}`;
}

function hostLog(host: string): string {
  return `<a href="logs/${attr(encodeURIComponent(host))}.log">log</a>`;
}

function failures(s: ScenarioJson): string {
  const failed = stepsOf(s)
    .filter((x) => x.status === "failed" || x.status === "ignored")
    .sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || a.stageIndex - b.stageIndex);
  let out = `<section id="failures"><h2>Failures</h2>`;
  if (s.error) out += `<article class="failure"><h3>${status("error")} the scenario</h3><pre>${escapeHtml(s.error)}</pre></article>`;
  if (!failed.length && !s.error) return out + `<p class="ok">Nothing failed.</p></section>`;
  for (const x of failed) {
    out +=
      `<article class="failure"><h3>${status(x.status)} <code>${escapeHtml(stepName(x))}</code> on <code>${escapeHtml(x.host)}</code></h3>` +
      `<p class="reason">${escapeHtml(x.error ?? (x.exitCode === null ? "killed" : `exit status ${x.exitCode}`))} ` +
      `<span class="dim">${escapeHtml(formatElapsed(x.durationMs))}</span> ${hostLog(x.host)}</p>` +
      `<pre>${escapeHtml(x.output ?? "")}</pre></article>`;
  }
  return out + `</section>`;
}

function timeline(s: ScenarioJson): string {
  const start = Date.parse(s.startedAt);
  const steps = stepsOf(s).filter((x) => x.startTime !== undefined);
  const lanes = [...new Set([...s.hosts.map((h) => h.name), ...steps.map((x) => x.host)])];
  const bars: Bar[] = steps.map((x) => {
    const from = Date.parse(x.startTime!);
    return {
      lane: x.host,
      startMs: from,
      endMs: from + x.durationMs,
      classes: [x.status, x.kind],
      title: `${stepName(x)} (${x.kind}) on ${x.host}: ${x.status}, ${formatElapsed(x.durationMs)}`,
    };
  });
  const markers = s.stages.filter((st) => st.startTime).map((st) => ({ atMs: Date.parse(st.startTime!), label: st.name }));
  return timelineSection("timeline of hosts and steps", lanes, bars, start, s.durationMs, markers);
}

function stepsTable(s: ScenarioJson): string {
  const rows = stepsOf(s).map((x) =>
    filterableRow(
      x.status,
      [x.stage, x.job, x.kind, x.host, x.item ?? "", x.error ?? ""],
      [
        status(x.status),
        `${escapeHtml(x.stage)}`,
        `<code>${escapeHtml(x.job)}</code>${x.item !== undefined ? ` <span class="dim">[${escapeHtml(x.item)}]</span>` : ""}` +
          (x.error ? `<div class="reason">${escapeHtml(x.error)}</div>` : ""),
        escapeHtml(x.kind),
        `${escapeHtml(x.host)} ${hostLog(x.host)}`,
        escapeHtml(formatElapsed(x.durationMs)),
      ],
    ),
  );
  return filterableTable({
    id: "steps",
    title: "Steps",
    noun: "steps",
    statuses: STEP_STATUSES,
    placeholder: "Search stages, jobs, hosts, items",
    head: ["status", "stage", "job", "kind", "host", "duration"],
    rows,
  });
}

function stagesList(s: ScenarioJson): string {
  const rows = s.stages
    .map(
      (st) =>
        `<tr><td>${status(st.status)}</td><td>${st.index}. ${escapeHtml(st.name)}</td><td>${escapeHtml(st.hosts.join(", "))}</td>` +
        `<td>${st.steps.length}</td><td class="num">${escapeHtml(formatElapsed(st.durationMs))}</td></tr>`,
    )
    .join("");
  return `<section id="stages"><h2>Stages</h2><table><thead><tr><th>status</th><th>stage</th><th>hosts</th><th>steps</th><th>duration</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function hostsAndServices(s: ScenarioJson): string {
  let out = "";
  if (s.hosts.length) {
    out += `<section id="hosts"><h2>Hosts</h2><table><thead><tr><th>host</th><th>system</th><th>address</th><th>log</th><th></th></tr></thead><tbody>`;
    for (const h of s.hosts) {
      out +=
        `<tr><td><code>${escapeHtml(h.name)}</code></td><td>${escapeHtml(`${h.backend}:${h.system}`)}</td><td>${escapeHtml(h.address ?? "")}</td>` +
        `<td>${hostLog(h.name)}</td><td>${escapeHtml(h.discardError ?? "")}</td></tr>`;
    }
    out += `</tbody></table></section>`;
  }
  if (s.services.length) {
    out += `<section id="services"><h2>Services</h2><table><thead><tr><th>host</th><th>service</th><th>endpoint</th><th>stopped</th></tr></thead><tbody>`;
    for (const v of s.services) {
      out +=
        `<tr><td>${escapeHtml(v.host)}</td><td><code>${escapeHtml(v.service)}</code></td><td>${escapeHtml(v.endpoint ?? "")}</td>` +
        `<td>${escapeHtml(v.stopped ?? "")}${v.exitCode !== undefined && v.exitCode !== null ? ` (exit status ${v.exitCode})` : ""}</td></tr>`;
    }
    out += `</tbody></table></section>`;
  }
  return out;
}

/** A scenario's report page's parts; before the scenario started, a page that says so. */
export function scenarioParts(s: ScenarioJson | undefined): PageParts {
  if (!s) return { title: "troupe play: starting", verdict: "running", header: `<h1>troupe play: starting</h1>`, main: "" };
  const title = `troupe play ${s.scenario}: ${s.status}`;
  const steps = stepsOf(s);
  const count = (st: string): number => steps.filter((x) => x.status === st).length;
  const summary =
    `<p class="summary">${status(s.status)} ${s.stages.length} stages, ${steps.length} steps: ${count("passed")} passed, ${count("failed")} failed` +
    `${count("ignored") ? `, ${count("ignored")} ignored` : ""}${count("stopped") ? `, ${count("stopped")} stopped` : ""}` +
    ` <span class="dim">in ${escapeHtml(formatElapsed(s.durationMs))}, started ${escapeHtml(s.startedAt)}, run ${escapeHtml(s.runId)},` +
    ` <a href="scenario.json">scenario.json</a></span></p>`;
  return {
    title,
    verdict: s.status,
    header: `<h1>${escapeHtml(title)}</h1>${summary}`,
    main: failures(s) + timeline(s) + stagesList(s) + stepsTable(s) + hostsAndServices(s),
  };
}

export function scenarioPage(s: ScenarioJson | undefined, o: PageOptions = {}): string {
  return pageHtml(scenarioParts(s), o);
}
