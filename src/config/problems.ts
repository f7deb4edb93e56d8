// Problems collected while loading, with the kind of each, so that one
// TroupeError can report them all at once.

import { TroupeError, type Problem } from "../util/errors.js";
import type { SourcePos } from "../model/position.js";
import { formatPath, type YamlPath } from "./yaml-positions.js";

export type ProblemKind = "E_YAML" | "E_SCHEMA" | "E_PROJECT";

/** Most specific first: a YAML error explains the schema errors that may follow it. */
const PRECEDENCE: readonly ProblemKind[] = ["E_YAML", "E_SCHEMA", "E_PROJECT"];

export class Problems {
  /** `firstFile`: the project file, whose problems come before those of task files. */
  constructor(private readonly firstFile?: string) {}

  private readonly list: { kind: ProblemKind; problem: Problem }[] = [];
  private readonly warningList: Problem[] = [];

  /** Something troupe accepts but the user probably did not mean (in a spread.yaml: what Spread ignores). */
  warn(pos: SourcePos | undefined, path: YamlPath | undefined, message: string): void {
    this.warningList.push({
      ...(pos ? { pos } : {}),
      ...(path && path.length > 0 ? { path: formatPath(path) } : {}),
      message,
    });
  }

  warnAll(problems: readonly Problem[]): void {
    this.warningList.push(...problems);
  }

  /** The warnings, in file order. */
  get warnings(): readonly Problem[] {
    return [...this.warningList].sort((a, b) => byPosition(a, b, this.firstFile));
  }

  add(kind: ProblemKind, pos: SourcePos | undefined, path: YamlPath | undefined, message: string): void {
    const problem: Problem = {
      ...(pos ? { pos } : {}),
      ...(path && path.length > 0 ? { path: formatPath(path) } : {}),
      message,
    };
    this.list.push({ kind, problem });
  }

  addAll(kind: ProblemKind, problems: readonly Problem[]): void {
    for (const problem of problems) this.list.push({ kind, problem });
  }

  get count(): number {
    return this.list.length;
  }

  /** Throws one TroupeError holding every problem, in file order, if there is any. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const kinds = new Set(this.list.map((p) => p.kind));
    const code = PRECEDENCE.find((k) => kinds.has(k)) ?? "E_PROJECT";
    const sorted = [...this.list].map((p) => p.problem).sort((a, b) => byPosition(a, b, this.firstFile));
    throw new TroupeError(code, sorted);
  }
}

function byPosition(a: Problem, b: Problem, firstFile: string | undefined): number {
  const pa = a.pos;
  const pb = b.pos;
  if (!pa || !pb) return pa ? -1 : pb ? 1 : 0;
  if (pa.file !== pb.file) {
    if (pa.file === firstFile) return -1;
    if (pb.file === firstFile) return 1;
    return pa.file < pb.file ? -1 : 1;
  }
  return pa.line - pb.line || pa.col - pb.col;
}
