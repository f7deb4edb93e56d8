// Typed errors. Every error a user can cause has a code and, where it comes
// from a file, a position; the CLI prints them without a stack trace.

import { formatPos, type SourcePos } from "../model/position.js";

export type ErrorCode =
  | "E_YAML" // the file is not valid YAML/JSON
  | "E_SCHEMA" // a key is unknown, a value has the wrong type or shape
  | "E_PROJECT" // the project is inconsistent (missing suite dir, bad name, ...)
  | "E_NOT_FOUND" // no project file found
  | "E_FILTER" // a bad filter expression
  | "E_USAGE" // bad command-line arguments
  | "E_UNSUPPORTED" // a backend type or feature troupe cannot run
  | "E_BACKEND" // a backend failed to allocate or discard a host
  | "E_TRANSPORT" // a connection to a host failed (infrastructure, not a test failure)
  | "E_SYNC" // a sync-service call failed (barrier timeout, poison, ...)
  | "E_DEADLOCK" // every host of a multi-host job waits in troupe-ctl and none can go on
  | "E_SCENARIO" // a scenario is inconsistent
  | "E_INTERRUPTED"; // the user pressed Ctrl-C

/** One problem at one place. */
export interface Problem {
  readonly pos?: SourcePos;
  /** Dotted path inside the file, e.g. `suites.tests/main/.environment`. */
  readonly path?: string;
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  const parts: string[] = [];
  if (p.pos) parts.push(formatPos(p.pos));
  if (p.path) parts.push(p.path);
  parts.push(p.message);
  return parts.join(": ");
}

export class TroupeError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, problems: Problem | readonly Problem[] | string) {
    const list: readonly Problem[] =
      typeof problems === "string" ? [{ message: problems }] : Array.isArray(problems) ? problems : [problems as Problem];
    super(list.map(formatProblem).join("\n"));
    this.name = "TroupeError";
    this.code = code;
    this.problems = list;
  }
}

export function isTroupeError(e: unknown): e is TroupeError {
  return e instanceof TroupeError;
}

/** Process exit statuses, shared by every command. */
export const EXIT = {
  OK: 0,
  /** At least one job or stage failed. */
  FAILED: 1,
  /** The user's input (files, flags, filters) is wrong; nothing ran. */
  USAGE: 2,
  /** Machines could not be had or reached; not a test failure. */
  INFRA: 3,
  /** Interrupted by the user (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export function exitCodeFor(e: TroupeError): number {
  switch (e.code) {
    case "E_BACKEND":
    case "E_TRANSPORT":
      return EXIT.INFRA;
    case "E_INTERRUPTED":
      return EXIT.INTERRUPTED;
    case "E_SYNC":
    case "E_DEADLOCK":
      return EXIT.FAILED;
    default:
      return EXIT.USAGE;
  }
}
