// Reporters: everything that prints or writes results (the terminal, hook
// logs, run.json, JUnit, the scenario's results). Each is one file under
// reporters/, implementing the typed hooks it needs; the hub (hub.ts)
// applies every event to the one run model first, then calls the hooks with
// the model's state, so that no reporter keeps a copy of the run of its own.
// vitest's reporters are the model: one per file, typed hooks over a shared
// state.

import type {
  HookFinished,
  Interrupted,
  TerminalHandover,
  HostDiscarded,
  HostStep,
  LogKept,
  Message,
  Output,
  PrometheusUpdated,
  ServiceStarted,
  ServiceStopped,
  TimeoutWarning,
  VarsUpdated,
  WorkerBroken,
} from "./events.js";
import type { RunModel } from "./model/run-model.js";
import type { HookState, HostState, JobState, StageState, StepState } from "./model/state.js";

export interface Reporter {
  // The test matrix (run, spread).
  onRunStart?(run: RunModel): void;
  onHostStep?(e: HostStep, host: HostState | undefined, run: RunModel): void;
  onHostAllocated?(host: HostState, run: RunModel): void;
  onHostDiscarded?(host: HostState, e: HostDiscarded, run: RunModel): void;
  onWorkerBroken?(e: WorkerBroken, run: RunModel): void;
  onJobStart?(job: JobState, run: RunModel): void;
  onHookStart?(hook: HookState, run: RunModel): void;
  /** One line a script printed; `hook` is undefined for output that belongs to no hook (scenario steps). */
  onOutput?(e: Output, hook: HookState | undefined, run: RunModel): void;
  onTimeoutWarning?(e: TimeoutWarning, hook: HookState | undefined, run: RunModel): void;
  onHookEnd?(hook: HookState, e: HookFinished, run: RunModel): void;
  onJobEnd?(job: JobState, run: RunModel): void;
  onRunEnd?(run: RunModel): void;
  /** A host of a multi-host job waited on its peers (troupe-ctl barrier, wait, ...): `job.waits` has it. */
  onSyncWait?(job: JobState, run: RunModel): void;

  // Scenarios (play).
  onScenarioStart?(run: RunModel): void;
  onStageStart?(stage: StageState, run: RunModel): void;
  onStepStart?(step: StepState, run: RunModel): void;
  onStepEnd?(step: StepState, run: RunModel): void;
  onStageEnd?(stage: StageState, run: RunModel): void;
  onServiceStart?(e: ServiceStarted, run: RunModel): void;
  onServiceStop?(e: ServiceStopped, run: RunModel): void;
  onLogKept?(e: LogKept, run: RunModel): void;
  onVarsUpdated?(e: VarsUpdated, run: RunModel): void;
  onPrometheus?(e: PrometheusUpdated, run: RunModel): void;
  onScenarioEnd?(run: RunModel): void;

  /** An interactive shell takes the user's terminal, or gives it back. */
  onTerminal?(e: TerminalHandover, run: RunModel): void;
  /** The user interrupted the run. */
  onInterrupt?(e: Interrupted, run: RunModel): void;

  /** info, warn, error and debug messages. */
  onMessage?(e: Message, run: RunModel): void;

  /**
   * The run is over: write what is left. Called once, in the order the
   * reporters were given (files first, so that later ones can read them).
   * A file that cannot be written is thrown; the hub says so and goes on.
   */
  finish?(run: RunModel): Promise<void>;
  /** Stop timers and live displays at once (called before `finish`). */
  close?(): void;
}
