// The live status block of the terminal writer: one header line (jobs done
// of all, failed, aborted, busy, left, time since the run started), one line
// per busy host (host, phase, elapsed time, job), and, once the user pressed
// Ctrl-C, what troupe is doing about it and what another Ctrl-C would do, so
// that the hint stays in view until the run ends. Pure rendering; the writer
// owns the state and the redrawing.

import type { Colors } from "./colors.js";
import { formatElapsed, truncate } from "./format.js";

export interface BusyHost {
  readonly host: string;
  /** The job or context the host works on; "" between jobs. */
  readonly job: string;
  /** `preparing`, `executing`, ...; "" between scripts. */
  readonly phase: string;
  /** When the current phase (or job) began, ms since the epoch. */
  readonly since: number;
}

export interface StatusCounts {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly aborted: number;
  readonly started: number;
}

export interface StatusView {
  readonly counts: StatusCounts;
  readonly busy: readonly BusyHost[];
  readonly now: number;
  /** Terminal width; lines are cut to `columns - 1` so they never wrap. */
  readonly columns: number;
  /** At most this many host lines; the rest is summed up in one line. */
  readonly maxRows: number;
  readonly colors: Colors;
  /** When the run started (ms since the epoch), for the elapsed time. */
  readonly startMs?: number;
  /** What an interrupt said (`troupe: interrupted: stopping, ... (Ctrl-C again to ...)`), shown last. */
  readonly notice?: string;
}

/** The lines of the block, without newlines; empty when there is nothing to show. */
export function renderStatus(v: StatusView): string[] {
  if (v.busy.length === 0 && v.counts.started === 0 && !v.notice) return [];
  const width = Math.max(10, v.columns - 1);
  const c = v.colors;
  const parts = [`${v.counts.done}/${v.counts.total} jobs done`];
  if (v.counts.failed > 0) parts.push(`${v.counts.failed} failed`);
  if (v.counts.aborted > 0) parts.push(`${v.counts.aborted} aborted`);
  parts.push(`${v.busy.length} busy`);
  parts.push(`${Math.max(0, v.counts.total - v.counts.done)} left`);
  if (v.startMs !== undefined) parts.push(`${formatElapsed(v.now - v.startMs)} elapsed`);
  const header = truncate(`troupe: ${parts.join(", ")}`, width);
  const lines = [v.counts.failed > 0 ? c.red(header) : c.bold(header)];

  const rows = [...v.busy].sort((a, b) => a.host.localeCompare(b.host));
  const shown = rows.length > v.maxRows ? rows.slice(0, Math.max(0, v.maxRows - 1)) : rows;
  const hostWidth = Math.min(24, Math.max(4, ...shown.map((r) => r.host.length)));
  for (const r of shown) {
    const host = truncate(r.host, hostWidth).padEnd(hostWidth);
    const phase = (r.phase || "-").padEnd(9);
    const elapsed = formatElapsed(v.now - r.since).padStart(6);
    const plain = truncate(`  ${host}  ${phase} ${elapsed}  ${r.job}`, width);
    // Color only the phase, on the already-cut text, so the cut never splits an escape.
    const head = `  ${host}  `;
    if (plain.startsWith(head + phase)) {
      lines.push(head + c.cyan(phase) + plain.slice(head.length + phase.length));
    } else {
      lines.push(plain);
    }
  }
  if (shown.length < rows.length) lines.push(truncate(`  ... and ${rows.length - shown.length} more hosts`, width));
  if (v.notice) lines.push(c.yellow(truncate(v.notice, width)));
  return lines;
}
