// The reporter hub: subscribed to the event stream, it applies each event to
// the run model, then calls each reporter's hook for it. A reporter that
// throws is named on `err` and the run goes on; a results file that cannot be
// written is an error the caller gets from `finish`, so that the run's exit
// status can say so.
//
// With `batch`, events wait for the end of the event loop's turn
// (setImmediate) and are then handed over in order: the engine, which emits
// them, first hands the next script to its host, and the reporters' work is
// done while scripts run rather than between one script and the next (1,000
// trivial local jobs: 0.1 ms of each job's turnaround).

import type { EventStream, TroupeEvent } from "./events.js";
import { RunModel } from "./model/run-model.js";
import type { HookState, HostState, JobState, StageState, StepState } from "./model/state.js";
import type { Reporter } from "./reporter.js";
import { errorText } from "../util/text.js";

export interface HubOptions {
  /** Where a reporter's own trouble is said (default: nowhere). */
  readonly complain?: (text: string) => void;
  /** The clock for a run that ends without its end event. */
  readonly now?: () => number;
  /** Hand events over once per turn of the event loop, in order (see the top); default: as each is emitted. */
  readonly batch?: boolean;
}

export class ReporterHub {
  readonly model = new RunModel();
  /** Results files that could not be written, and reporters that failed, by the time `finish` resolved. */
  readonly errors: Error[] = [];
  private off: (() => void) | undefined;
  private finishing: Promise<void> | undefined;
  /** Events not handed over yet (batch). */
  private queue: TroupeEvent[] = [];
  private drainer: NodeJS.Immediate | undefined;

  constructor(
    private readonly reporters: readonly Reporter[],
    private readonly o: HubOptions = {},
  ) {}

  /** Listen to `events` until `finish`. */
  attach(events: EventStream): this {
    this.off = events.on((e) => (this.o.batch ? this.enqueue(e) : this.handle(e)));
    return this;
  }

  private enqueue(e: TroupeEvent): void {
    this.queue.push(e);
    this.drainer ??= setImmediate(() => this.drain());
  }

  /** Hand over every event still waiting, in order. */
  private drain(): void {
    if (this.drainer) clearImmediate(this.drainer);
    this.drainer = undefined;
    const waiting = this.queue;
    this.queue = [];
    for (const e of waiting) this.handle(e);
  }

  /** Apply one event and tell the reporters. */
  handle(e: TroupeEvent): void {
    const m = this.model;
    const touched = m.apply(e);
    switch (e.type) {
      case "run-started":
        return this.each((r) => r.onRunStart?.(m));
      case "host-step":
        return this.each((r) => r.onHostStep?.(e, touched as HostState | undefined, m));
      case "host-allocated":
        return this.each((r) => r.onHostAllocated?.(touched as HostState, m));
      case "host-discarded":
        return this.each((r) => r.onHostDiscarded?.(touched as HostState, e, m));
      case "worker-broken":
        return this.each((r) => r.onWorkerBroken?.(e, m));
      case "job-started":
        return this.each((r) => r.onJobStart?.(touched as JobState, m));
      case "hook-started":
        return this.each((r) => r.onHookStart?.(touched as HookState, m));
      case "output":
        return this.each((r) => r.onOutput?.(e, touched as HookState | undefined, m));
      case "timeout-warning":
        return this.each((r) => r.onTimeoutWarning?.(e, touched as HookState | undefined, m));
      case "hook-finished":
        return this.each((r) => r.onHookEnd?.(touched as HookState, e, m));
      case "job-finished":
        return this.each((r) => r.onJobEnd?.(touched as JobState, m));
      case "run-finished":
        return this.each((r) => r.onRunEnd?.(m));
      case "message":
        return this.each((r) => r.onMessage?.(e, m));
      case "terminal":
        return this.each((r) => r.onTerminal?.(e, m));
      case "interrupt":
        return this.each((r) => r.onInterrupt?.(e, m));
      case "scenario-started":
        return this.each((r) => r.onScenarioStart?.(m));
      case "prometheus-updated":
        return this.each((r) => r.onPrometheus?.(e, m));
      case "stage-started":
        return this.each((r) => r.onStageStart?.(touched as StageState, m));
      case "stage-finished":
        if (touched) this.each((r) => r.onStageEnd?.(touched as StageState, m));
        return;
      case "step-started":
        return this.each((r) => r.onStepStart?.(touched as StepState, m));
      case "step-finished":
        return this.each((r) => r.onStepEnd?.(touched as StepState, m));
      case "service-started":
        return this.each((r) => r.onServiceStart?.(e, m));
      case "service-stopped":
        return this.each((r) => r.onServiceStop?.(e, m));
      case "log-kept":
        return this.each((r) => r.onLogKept?.(e, m));
      case "vars-updated":
        return this.each((r) => r.onVarsUpdated?.(e, m));
      case "scenario-finished":
        return this.each((r) => r.onScenarioEnd?.(m));
      case "sync-wait":
        if (touched) this.each((r) => r.onSyncWait?.(touched as JobState, m));
        return;
    }
  }

  /**
   * Stop listening, close live displays, and let every reporter write what
   * is left, in order. Resolves once all is written; what could not be is in
   * `errors` (and was said on `complain`). Safe to call twice.
   */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.off?.();
      this.drain();
      this.model.close((this.o.now ?? Date.now)());
      for (const r of this.reporters) this.guard(r, () => r.close?.());
      for (const r of this.reporters) {
        try {
          await r.finish?.(this.model);
        } catch (err) {
          this.fail(err);
        }
      }
    })();
    return this.finishing;
  }

  private each(call: (r: Reporter) => void): void {
    for (const r of this.reporters) this.guard(r, () => call(r));
  }

  /** A reporter's bug must not stop the run: say it and go on. */
  private guard(r: Reporter, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err, r);
    }
  }

  private fail(err: unknown, r?: Reporter): void {
    const e = err instanceof Error ? err : new Error(errorText(err));
    this.errors.push(e);
    if (this.errors.length <= 5) this.o.complain?.(`troupe: ${r ? `${r.constructor.name}: ` : ""}${errorText(e)}`);
  }
}
