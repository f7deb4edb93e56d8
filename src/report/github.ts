// GitHub Actions' workflow commands and job summary, as text. Pure.
//
// An annotation is one line on the step's output:
//   ::error file=checks/greet/task.yaml,line=3,col=1,title=...::message
// GitHub reads `%`, CR and LF escaped in the message (`%25`, `%0D`, `%0A`),
// and in property values `:` and `,` as well (`%3A`, `%2C`), since they
// separate the properties
// (https://docs.github.com/actions/reference/workflow-commands-for-github-actions).

import type { SourcePos } from "../model/position.js";

export function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export interface Annotation {
  readonly kind: "error" | "warning" | "notice";
  readonly title: string;
  readonly message: string;
  /** The file and place, relative to the workspace; none: the annotation is on the run. */
  readonly pos?: SourcePos;
}

/** The workflow command for `a`, without its newline. */
export function annotationCommand(a: Annotation): string {
  const props: string[] = [];
  if (a.pos) {
    props.push(`file=${escapeProperty(a.pos.file)}`, `line=${a.pos.line}`, `col=${a.pos.col}`);
  }
  props.push(`title=${escapeProperty(a.title)}`);
  return `::${a.kind} ${props.join(",")}::${escapeData(a.message)}`;
}

/** A table cell: no line breaks, no `|` that would end the cell. */
export function markdownCell(s: string): string {
  return s
    .replace(/\r?\n/g, " ")
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[<>]/g, (c) => (c === "<" ? "&lt;" : "&gt;"));
}

/** `text` as inline code that no backtick in it can close early. */
export function markdownCode(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  // In a table, GitHub ends a cell at `|` even inside code: `\|` keeps it (and shows `|`).
  const body = text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  return `${fence}${pad}${body}${pad}${fence}`;
}
