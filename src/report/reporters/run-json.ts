// run.json, the machine-readable record of a run (see ../run-json.ts for its
// shape). Written first when the run starts and kept current: rewritten
// atomically (temporary file, then rename) as jobs and failed hooks finish,
// at most every `rewriteMs`, one write at a time; written a last time when
// the run ends.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic.js";
import type { RunModel } from "../model/run-model.js";
import { hookFailed } from "../model/run-model.js";
import type { HookState } from "../model/state.js";
import type { Reporter } from "../reporter.js";
import { toRunJson, type RunJson } from "../run-json.js";
import { withRunProcess } from "../../runs/process.js";

export interface RunJsonOptions {
  /** Minimum time between two rewrites while the run goes on (default 1 s). */
  readonly rewriteMs?: number;
  readonly now?: () => number;
}

export class RunJsonFile implements Reporter {
  readonly path: string;
  private readonly rewriteMs: number;
  private readonly now: () => number;
  private model: RunModel | undefined;
  private dirty = false;
  private writing: Promise<void> | undefined;
  private lastWrite = Number.NEGATIVE_INFINITY;
  private finishing = false;
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private error: Error | undefined;
  /** What the last write held. */
  last: RunJson | undefined;
  /** The model's revision the last write held. */
  private lastRevision = -1;

  constructor(
    private readonly runDir: string,
    options: RunJsonOptions = {},
  ) {
    this.path = join(runDir, "run.json");
    this.rewriteMs = options.rewriteMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  onRunStart(run: RunModel): void {
    this.schedule(run);
  }

  onJobStart(_job: unknown, run: RunModel): void {
    this.schedule(run);
  }

  onJobEnd(_job: unknown, run: RunModel): void {
    this.schedule(run);
  }

  onHookEnd(hook: HookState, _e: unknown, run: RunModel): void {
    if (hookFailed(hook)) this.schedule(run);
  }

  onRunEnd(run: RunModel): void {
    this.schedule(run);
  }

  /** Resolves once run.json holds everything handled so far. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Write the final run.json; throws when it cannot be written. */
  async finish(run: RunModel): Promise<void> {
    this.finishing = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wake?.();
    if (this.writing) await this.writing;
    // The write the run's end asked for may hold everything already (the model was closed before it).
    if (this.lastRevision === run.revision && this.error === undefined) return;
    this.error = undefined;
    this.schedule(run);
    await this.writing;
    const error = this.error as Error | undefined; // set by the write loop
    if (error) throw new Error(`cannot write ${this.path}: ${error.message}`, { cause: error });
  }

  private schedule(run: RunModel): void {
    this.model = run;
    this.dirty = true;
    this.writing ??= this.loop();
  }

  private async loop(): Promise<void> {
    while (this.dirty) {
      const wait = this.lastWrite + this.rewriteMs - this.now();
      if (wait > 0 && !this.finishing) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.wakeTimer = setTimeout(resolve, wait);
        });
        this.wake = undefined;
        this.wakeTimer = undefined;
      }
      this.dirty = false;
      const revision = this.model!.revision;
      // Which process writes it: a later run tells a run killed outright from one still going (../../runs/killed.ts).
      const snapshot: RunJson = withRunProcess(toRunJson(this.model!, this.now()));
      try {
        await mkdir(this.runDir, { recursive: true });
        await writeFileAtomic(this.path, JSON.stringify(snapshot, null, 2) + "\n");
        this.last = snapshot;
        this.lastRevision = revision;
      } catch (err) {
        this.error = err instanceof Error ? err : new Error(String(err));
      }
      this.lastWrite = this.now();
    }
    this.writing = undefined;
  }
}
