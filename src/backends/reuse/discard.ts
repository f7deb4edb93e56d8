// -discard: discard the recorded hosts (all of them, or those of the systems
// the filters select) and run nothing, as `spread -discard`. Each host is
// taken back by its backend without connecting where it can be, discarded,
// and its entry removed, even when discarding fails (Spread's way: the
// error is reported, the entry is not tried forever).

import type { Backend, Project, System } from "../../model/project.js";
import type { EventStream } from "../../report/events.js";
import { EXIT } from "../../util/errors.js";
import type { BackendDriver, RecordedHost } from "../backend.js";
import type { ReuseSession } from "./session.js";
import { errorText } from "../../util/text.js";

export interface DiscardOptions {
  readonly session: ReuseSession;
  readonly project: Project;
  /** Only hosts of these `backend:system` pairs; every recorded host when absent. */
  readonly systems?: ReadonlySet<string>;
  /** The driver of a backend (as the run gets it; the session unwraps it). */
  readonly driverOf: (backend: Backend) => BackendDriver;
  /**
   * A driver of `type` for a backend: a host is discarded by the type that
   * made it (recorded with it), whatever `--backend-as` says this time.
   */
  readonly driverOfType?: (backend: Backend, type: string) => Promise<BackendDriver>;
  readonly events: EventStream;
  readonly runId: string;
  readonly runDir: string;
  /** Hosts discarded at once (default 8). */
  readonly concurrency?: number;
}

/** Discard recorded hosts; returns the exit status (3 when some could not be discarded). */
export async function discardRecorded(o: DiscardOptions): Promise<number> {
  const { session, events } = o;
  const all = await session.recorded();
  const chosen = all.filter((h) => !o.systems || o.systems.has(`${h.backend}:${h.system}`));
  events.emit({ type: "run-started", runId: o.runId, dir: o.runDir, seed: 0, jobs: 0, workers: chosen.length });
  const started = Date.now();
  if (chosen.length === 0) {
    events.message(
      "info",
      all.length === 0
        ? `No hosts are recorded in ${session.fileLabel}.`
        : `No hosts of the selected systems are recorded in ${session.fileLabel}.`,
    );
  }
  let failed = 0;
  const queue = [...chosen];
  const worker = async (): Promise<void> => {
    for (let rec = queue.shift(); rec; rec = queue.shift()) {
      if (!(await discardOne(o, rec))) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 8, queue.length)) }, worker));
  events.emit({
    type: "run-finished",
    passed: [],
    failed: [],
    aborted: [],
    failedHooks: [],
    durationMs: Date.now() - started,
    interrupted: false,
  });
  return failed > 0 ? EXIT.INFRA : EXIT.OK;
}

async function discardOne(o: DiscardOptions, rec: RecordedHost): Promise<boolean> {
  const { events, session } = o;
  const backend = o.project.backends.find((b) => b.name === rec.backend);
  if (!backend) {
    events.message(
      "error",
      `Cannot discard ${rec.backend}:${rec.system} (${rec.name}) at ${rec.address}: the project has no backend ${rec.backend} any more; it stays in ${session.fileLabel}`,
    );
    return false;
  }
  let inner: BackendDriver;
  try {
    inner = rec.type !== undefined && o.driverOfType ? await o.driverOfType(backend, rec.type) : session.unwrap(o.driverOf(backend));
  } catch (err) {
    events.message("error", `Cannot discard ${rec.backend}:${rec.system} (${rec.name}): ${errorText(err)}`);
    return false;
  }
  const system = backend.systems.find((s) => s.name === rec.system) ?? removedSystem(backend, rec.system);
  events.emit({ type: "host-step", step: "discarding", backend: rec.backend, system: rec.system, host: rec.name, address: rec.address });
  const ok = await session.discardRecord(inner, system, rec);
  events.emit({ type: "host-discarded", host: rec.name });
  return ok;
}

/** A system the project no longer has, for discarding its hosts (Spread's removedSystem). */
function removedSystem(backend: Backend, name: string): System {
  return { name, backend: backend.name, image: name, workers: 1, extra: {}, environment: [], pos: backend.pos, where: {} };
}
