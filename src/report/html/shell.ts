// The page around the report's parts: one document for the static report
// (report.html, its data in it) and the live dashboard (`--serve`), which is
// the same document whose script also listens to the server's Server-Sent
// Events and puts each new version of the parts in place.

import { PAGE_SCRIPT, PAGE_STYLE } from "./assets.js";
import { attr, escapeHtml } from "./escape.js";

/** Job statuses, failures first: the order of the filters and of the rows. */
export const JOB_STATUSES = ["failed", "aborted", "running", "skipped", "passed"] as const;

/** What the live dashboard sends each time the run changes: the whole page but its shell. */
export interface PageParts {
  readonly title: string;
  /** `passed`, `failed`, `running`, ...: the page's colour. */
  readonly verdict: string;
  /** The inside of `<header>`. */
  readonly header: string;
  /** The inside of `<main>`: its sections. */
  readonly main: string;
}

export interface PageOptions {
  /** Follow the run from the server (`/events`) as well as showing what the page holds. */
  readonly live?: boolean;
}

export function status(s: string): string {
  return `<span class="status ${attr(s)}">${escapeHtml(s)}</span>`;
}

export function pageHtml(p: PageParts, o: PageOptions = {}): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(p.title)}</title><style>${PAGE_STYLE}</style></head>` +
    `<body class="${attr(p.verdict)}"${o.live ? ` data-live="events"` : ""}><header>${p.header}</header>` +
    `<main>${p.main}</main><script>${PAGE_SCRIPT}</script></body></html>\n`
  );
}

export interface FilterableTable {
  readonly id: string;
  readonly title: string;
  /** What a row is, plural: `jobs`, `steps`. */
  readonly noun: string;
  /**
   * The statuses to filter by, every one whether a row has it yet or not:
   * the live page keeps these controls as they are while the rows change.
   */
  readonly statuses: readonly string[];
  readonly placeholder: string;
  readonly head: readonly string[];
  /** `<tr data-status=... data-search=...>` rows. */
  readonly rows: readonly string[];
}

/** The one table of a page that the status filter and the search box narrow (the page's script finds it by its class). */
export function filterableTable(t: FilterableTable): string {
  const filters = t.statuses
    .map((s) => `<label><input type="checkbox" name="status" value="${attr(s)}" checked> ${escapeHtml(s)}</label>`)
    .join(" ");
  return (
    `<section id="${attr(t.id)}" class="filterable" data-noun="${attr(t.noun)}"><h2>${escapeHtml(t.title)}</h2>` +
    `<div class="controls"><input type="search" id="search" placeholder="${attr(t.placeholder)}" aria-label="search ${attr(t.noun)}"> ${filters} <span id="shown"></span></div>` +
    `<table><thead><tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>` +
    `<tbody>${t.rows.join("")}</tbody></table></section>`
  );
}

/** A row that filterableTable's controls narrow. */
export function filterableRow(statusValue: string, search: readonly string[], cells: readonly string[]): string {
  return `<tr data-status="${attr(statusValue)}" data-search="${attr(search.join(" ").toLowerCase())}">${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
}
