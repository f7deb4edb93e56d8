/** A place in a user's file, 1-based as editors show it. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function formatPos(pos: SourcePos | undefined): string {
  if (!pos) return "";
  return `${pos.file}:${pos.line}:${pos.col}`;
}
