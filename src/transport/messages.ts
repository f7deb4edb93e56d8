// Short forms of a remote program's output, for error messages. Pure.

/** The last three non-empty lines of `text`, joined with "; " (what ssh said last). */
export function lastLines(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(-3)
    .join("; ");
}

/** The first three non-empty lines of `text`, joined with "; ". */
export function firstLines(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(0, 3)
    .join("; ");
}
