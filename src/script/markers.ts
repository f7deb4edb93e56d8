// Markers: how a script talks back to troupe, as Spread's do. A helper
// function prints `<REBOOT key>`, `<ERROR message>` or `<FATAL message>` as
// its last line and exits MARKER_EXIT; adhoc allocate scripts print
// `<ADDRESS addr>` and go on.

/** The exit status REBOOT, ERROR and FATAL leave with (Spread's). */
export const MARKER_EXIT = 213;

export type MarkerKind = "REBOOT" | "ERROR" | "FATAL";

export interface Marker {
  readonly kind: MarkerKind;
  readonly arg: string;
}

const MARKER_LINE = /^<([A-Z_]+)(?: (.*))?>$/;

/** `<KEY value>` as [KEY, value], or undefined for any other line. */
export function markerLine(line: string): readonly [string, string] | undefined {
  const m = MARKER_LINE.exec(line.trim());
  return m ? [m[1]!, m[2] ?? ""] : undefined;
}

/** The REBOOT/ERROR/FATAL marker on the last line of `text`, if any. */
export function parseMarker(text: string): Marker | undefined {
  const trimmed = text.trimEnd();
  const last = trimmed.slice(trimmed.lastIndexOf("\n") + 1);
  const m = markerLine(last);
  if (!m) return undefined;
  const [kind, arg] = m;
  if (kind !== "REBOOT" && kind !== "ERROR" && kind !== "FATAL") return undefined;
  return { kind, arg };
}

/** Is this line a REBOOT/ERROR/FATAL marker? */
export function isControlMarker(line: string): boolean {
  const m = markerLine(line);
  return m !== undefined && (m[0] === "REBOOT" || m[0] === "ERROR" || m[0] === "FATAL");
}
