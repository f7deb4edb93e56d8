// A timeline: one lane per host, one bar per script (a job's hook, a
// scenario's step) on one time axis, as an inline SVG. A multi-host job is a
// bar on each of its hosts' lanes; where one host waits for another (a
// troupe-ctl barrier, wait, lock), a thin bar over its script shows how long.

import { formatElapsed } from "../format.js";
import { attr, escapeHtml } from "./escape.js";

export interface Bar {
  readonly lane: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Classes: its status, its phase or kind. */
  readonly classes: readonly string[];
  /** Shown on hover. */
  readonly title: string;
  /** Drawn thin, over the others: a wait inside a script. */
  readonly thin?: boolean;
}

export interface Marker {
  readonly atMs: number;
  readonly label: string;
}

const LANE = 22;
const LABEL = 160;
const WIDTH = 1000;

/** The section, or "" when there is no lane. */
export function timelineSection(
  title: string,
  lanes: readonly string[],
  bars: readonly Bar[],
  startMs: number,
  spanMs: number,
  markers: readonly Marker[] = [],
): string {
  if (!lanes.length) return "";
  const span = Math.max(1, spanMs, ...bars.map((b) => b.endMs - startMs));
  const x = (ms: number): number => LABEL + ((WIDTH - LABEL) * Math.max(0, ms - startMs)) / span;
  const top = markers.length ? 14 : 0;
  const height = top + lanes.length * LANE + 20;
  let svg = `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${attr(title)}">`;
  lanes.forEach((lane, i) => {
    svg += `<text x="4" y="${top + i * LANE + 15}" class="lane">${escapeHtml(lane)}</text>`;
    svg += `<line x1="${LABEL}" x2="${WIDTH}" y1="${top + i * LANE + 20}" y2="${top + i * LANE + 20}" class="grid"/>`;
  });
  for (const m of markers) {
    const mx = x(m.atMs).toFixed(1);
    svg += `<line x1="${mx}" x2="${mx}" y1="0" y2="${top + lanes.length * LANE}" class="marker"/>`;
    svg += `<text x="${mx}" y="10" class="marker">${escapeHtml(m.label)}</text>`;
  }
  for (const b of bars) {
    const lane = lanes.indexOf(b.lane);
    if (lane < 0) continue;
    const x0 = x(b.startMs);
    const w = Math.max(1.5, x(b.endMs) - x0);
    const [y, h] = b.thin ? [top + lane * LANE + 13, 5] : [top + lane * LANE + 4, 14];
    svg += `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" class="bar ${attr(b.classes.join(" "))}"><title>${escapeHtml(b.title)}</title></rect>`;
  }
  const bottom = top + lanes.length * LANE + 16;
  svg += `<text x="${LABEL}" y="${bottom}" class="axis">0s</text>`;
  const end = span < 60_000 ? `${(span / 1000).toFixed(1)}s` : formatElapsed(span);
  svg += `<text x="${WIDTH - 4}" y="${bottom}" class="axis end">${escapeHtml(end)}</text>`;
  return `<section id="timeline"><h2>Timeline</h2>${svg}</svg></section>`;
}
