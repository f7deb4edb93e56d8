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

/** The same, asynchronously: it can time out or be interrupted while the process waits (api/host-command.ts). */
export type AsyncHostCommand = (cmd: string) => Promise<string>;

/** Thrown through the planner when a command has not run yet (planWithHostCommands). */
class NeedsHostCommand extends Error {
  constructor(readonly cmd: string) {
    super(`$(HOST:${cmd}) has not run yet`);
  }
}

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
      if (e instanceof NeedsHostCommand) throw e;
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

/**
 * Plan with `$(HOST:cmd)` commands run asynchronously, so that a command can
 * be timed out or interrupted while troupe waits (a synchronous runner blocks
 * the process: no signal handler runs until the command ends). The planner
 * stays synchronous and pure: `plan` is called with a runner that answers
 * from the cache; when it needs a command that has not run, planning stops,
 * the command runs, and `plan` is called again. Commands run one at a time,
 * in the order the planner needs them, each once; a command's failure is
 * remembered and thrown from inside the planner, so that the error names
 * where the command was written, as with a synchronous runner. An
 * interrupted command (E_INTERRUPTED) ends planning at once.
 */
export async function planWithHostCommands<T>(
  plan: (hostCommand: HostCommand, hostCache: Map<string, string>) => T,
  run: AsyncHostCommand,
  hostCache: Map<string, string> = new Map<string, string>(),
): Promise<T> {
  const failures = new Map<string, unknown>();
  const fromCache: HostCommand = (cmd) => {
    if (failures.has(cmd)) throw failures.get(cmd);
    throw new NeedsHostCommand(cmd);
  };
  // A first pass learns every command the plan needs (a project with dozens
  // of them, on tens of thousands of jobs, must not be planned once per
  // command); they run in that order; then the plan is made from the cache.
  const wanted: string[] = [];
  const recording: HostCommand = (cmd) => {
    if (!hostCache.has(cmd) && !wanted.includes(cmd)) wanted.push(cmd);
    return "";
  };
  let first: { result: T } | undefined;
  try {
    first = { result: plan(recording, new Map(hostCache)) };
  } catch {
    // A plan that cannot be made with blank outputs: learn the commands one at a time below.
  }
  if (first && wanted.length === 0) return first.result;
  for (const cmd of wanted) {
    try {
      hostCache.set(cmd, (await run(cmd)).replace(/\n+$/, ""));
    } catch (e) {
      if (isTroupeError(e) && e.code === "E_INTERRUPTED") throw e;
      failures.set(cmd, e);
    }
  }
  // A command written from another's output is learnt only now: one at a time.
  for (;;) {
    let needed: string;
    try {
      return plan(fromCache, hostCache);
    } catch (e) {
      if (!(e instanceof NeedsHostCommand)) throw e;
      needed = e.cmd;
    }
    try {
      hostCache.set(needed, (await run(needed)).replace(/\n+$/, ""));
    } catch (e) {
      if (isTroupeError(e) && e.code === "E_INTERRUPTED") throw e;
      failures.set(needed, e);
    }
  }
}
