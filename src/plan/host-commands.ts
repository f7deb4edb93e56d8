// `$(HOST:cmd)` in environment values runs on the orchestrator at plan time
// (Spread's evalenv with hostOnly); every other `$(...)` and `$VAR` is left
// for the host's shell. Each distinct command runs once per plan: the cache
// is shared by every job and every level. The caller injects the runner, so
// this file does no I/O.

import type { SourcePos } from "../model/position.js";
import { isTroupeError, TroupeError } from "../util/errors.js";
import { errorText } from "../util/text.js";

/** Runs `cmd` on the orchestrator and returns its stdout (the runner or this module trims trailing newlines). */
export type HostCommand = (cmd: string) => string;

const HOST_REF = /\$\(HOST:.+?\)/g;

export class HostCommandCache {
  private readonly outputs: Map<string, string>;

  constructor(
    private readonly run: HostCommand | undefined,
    outputs?: Map<string, string>,
  ) {
    this.outputs = outputs ?? new Map<string, string>();
  }

  /** How many distinct commands have run so far. */
  get size(): number {
    return this.outputs.size;
  }

  /**
   * Replace every `$(HOST:cmd)` in `value`. `context` names where the value
   * was written (`suite "tests/" environment`) and `pos` points at it, for
   * errors.
   */
  expand(value: string, context: string, pos?: SourcePos): string {
    if (!value.includes("$(HOST:")) return value;
    return value.replace(HOST_REF, (ref) => this.output(ref, ref.slice("$(HOST:".length, -1), context, pos));
  }

  private output(ref: string, cmd: string, context: string, pos: SourcePos | undefined): string {
    const cached = this.outputs.get(cmd);
    if (cached !== undefined) return cached;
    if (!this.run) {
      throw new TroupeError("E_PROJECT", {
        ...(pos ? { pos } : {}),
        message: `${ref} in ${context} cannot run: no host command runner was given to the planner`,
      });
    }
    let out: string;
    try {
      out = this.run(cmd);
    } catch (e) {
      if (isTroupeError(e)) {
        throw new TroupeError(
          e.code,
          e.problems.map((p) => ({ ...p, ...(pos && !p.pos ? { pos } : {}), path: p.path ?? `${context}` })),
        );
      }
      const why = errorText(e);
      throw new TroupeError("E_PROJECT", { ...(pos ? { pos } : {}), message: `${ref} in ${context} returned error: ${why}` });
    }
    out = out.replace(/\n+$/, "");
    this.outputs.set(cmd, out);
    return out;
  }
}
