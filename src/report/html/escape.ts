// Escaping for the HTML report: scripts' output may hold anything.

import { stripAnsi } from "../format.js";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text as HTML character data: markup escaped, colors dropped, control characters shown. */
export function escapeHtml(s: string): string {
  return (
    stripAnsi(s)
      .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
      // C0 controls but tab and newline, and DEL: visible, not swallowed.
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
  );
}

/** A value for a double-quoted attribute. */
export function attr(s: string): string {
  return escapeHtml(s);
}
