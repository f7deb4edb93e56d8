// Hand-built projects and jobs for exec tests, plus a harness that runs them
// on the local backend in a temporary run directory and records every event.

import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLocalDriver } from "../../../src/backends/local/index.js";
import { runJobs } from "../../../src/exec/index.js";
import type { RunOptions, RunOutcome } from "../../../src/exec/index.js";
import { joinScripts } from "../../../src/exec/roles.js";
import type { EnvVar, HookLevel, Job, Timeouts } from "../../../src/model/job.js";
import type { Backend, Hooks, HostRole, Project, Suite, System, Task } from "../../../src/model/project.js";
import { EventStream, type TroupeEvent } from "../../../src/report/events.js";
import { HostPool } from "../../../src/hosts/pool.js";
import type { Bundle } from "../../../src/transfer/bundle.js";

export const pos = { file: "spread.yaml", line: 1, col: 1 };
const located = { pos, where: {} };

export interface TaskSpec {
  /** Base name inside the suite: `a` gives task `<suite>a`. */
  readonly name: string;
  readonly prepare?: string;
  readonly execute?: string;
  readonly restore?: string;
  readonly debug?: string;
  readonly hosts?: readonly { name: string; count?: number; system?: string }[];
  /** Ports the job reserves (what plan/ makes of `ports:`). */
  readonly ports?: readonly { name: string; on?: string }[];
  readonly roleScripts?: Record<string, Record<string, string>>;
  readonly samples?: number;
  readonly priority?: number;
  readonly variants?: readonly string[];
}

export interface SuiteSpec extends Hooks {
  /** With its trailing slash: `s1/`. */
  readonly name: string;
  readonly tasks: readonly TaskSpec[];
}

export interface WorldSpec {
  /** The project file's kind (default a Spread project). */
  readonly flavour?: "troupe" | "spread";
  readonly project?: Hooks;
  readonly backend?: Hooks & { readonly name?: string; readonly type?: string };
  readonly systems?: readonly { readonly name: string; readonly workers?: number }[];
  readonly suites: readonly SuiteSpec[];
  /** The job environment, in order (before SPREAD_* in Spread's cascade does not matter here). */
  readonly environment?: readonly EnvVar[];
  readonly timeouts?: Partial<Record<HookLevel, Timeouts>>;
}

const NONE: Timeouts = { warn: 0, kill: 0 };

/** Build a project and its jobs: every task on every system, in declaration order. */
export function world(spec: WorldSpec): { project: Project; jobs: Job[] } {
  const systems: System[] = (spec.systems ?? [{ name: "sys" }]).map((s) => ({
    ...located,
    name: s.name,
    backend: spec.backend?.name ?? "local",
    image: s.name,
    workers: s.workers ?? 1,
    environment: [],
    extra: {},
  }));
  const backend: Backend = {
    ...located,
    ...spec.backend,
    name: spec.backend?.name ?? "local",
    type: spec.backend?.type ?? "local",
    systems,
    environment: [],
    extra: {},
  };
  const suites: Suite[] = spec.suites.map((s) => {
    const { tasks: _tasks, ...hooks } = s;
    const dir = `/nowhere/${s.name}`;
    return {
      ...located,
      ...hooks,
      dir,
      environment: [],
      tasks: s.tasks.map((t): Task => ({
        ...located,
        name: `${s.name}${t.name}`,
        suite: s.name,
        dir: `${dir}${t.name}`,
        environment: [],
        roleScripts: t.roleScripts ?? {},
        artifacts: [],
        ...(t.prepare !== undefined ? { prepare: t.prepare } : {}),
        ...(t.execute !== undefined ? { execute: t.execute } : {}),
        ...(t.restore !== undefined ? { restore: t.restore } : {}),
        ...(t.debug !== undefined ? { debug: t.debug } : {}),
        ...(t.samples !== undefined ? { samples: t.samples } : {}),
        ...(t.hosts
          ? { hosts: t.hosts.map((h): HostRole => ({ name: h.name, count: h.count ?? 1, pos, ...(h.system ? { system: h.system } : {}) })) }
          : {}),
      })),
    };
  });
  const project: Project = {
    ...located,
    ...spec.project,
    name: "proj",
    file: "/nowhere/spread.yaml",
    dir: "/nowhere",
    remotePath: "/remote/proj",
    flavour: spec.flavour ?? "spread",
    shell: "bash",
    include: [],
    exclude: [],
    rename: [],
    backends: [backend],
    suites,
    environment: [],
  };
  const timeouts = {
    project: spec.timeouts?.project ?? NONE,
    backend: spec.timeouts?.backend ?? NONE,
    suite: spec.timeouts?.suite ?? NONE,
    task: spec.timeouts?.task ?? NONE,
  };
  const jobs: Job[] = [];
  for (const system of systems) {
    for (const [si, suite] of suites.entries()) {
      for (const [ti, task] of suite.tasks.entries()) {
        const tspec = spec.suites[si]!.tasks[ti]!;
        for (const variant of tspec.variants ?? [""]) {
          for (let sample = 1; sample <= (task.samples ?? 1); sample++) {
            let name = `${backend.name}:${system.name}:${task.name}${variant ? `:${variant}` : ""}`;
            if ((task.samples ?? 1) > 1) name += `#${sample}`;
            jobs.push({
              name,
              project,
              backend,
              system,
              suite,
              task,
              variant,
              sample,
              environment: [...(spec.environment ?? [])],
              priority: tspec.priority ?? 0,
              timeouts,
              scripts: {
                prepare: joinScripts(project.prepareEach, backend.prepareEach, suite.prepareEach, task.prepare),
                execute: task.execute ?? "",
                restore: joinScripts(task.restore, suite.restoreEach, backend.restoreEach, project.restoreEach),
                debug: joinScripts(task.debug, suite.debugEach, backend.debugEach, project.debugEach),
              },
              ...(task.hosts ? { hosts: task.hosts } : {}),
              ...(tspec.ports ? { ports: tspec.ports } : {}),
            });
          }
        }
      }
    }
  }
  return { project, jobs };
}

export async function tempDir(prefix = "troupe-exec-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Create every task directory in the host's copy (what transfer/ would unpack). */
export function pushTaskDirs(jobs: readonly Job[]): (host: Host) => Promise<void> {
  return async (host) => {
    for (const job of jobs) await mkdir(join(host.projectPath, job.task.name), { recursive: true });
  };
}

export interface Harness {
  readonly outcome: RunOutcome;
  readonly events: TroupeEvent[];
  readonly runDir: string;
  of<T extends TroupeEvent["type"]>(type: T): Extract<TroupeEvent, { type: T }>[];
}

/** The bundle runJobs is given: the harness's drivers push without reading it. */
const HARNESS_BUNDLE: Bundle = { path: "/nowhere/project.tar.gz", bytes: 0, sha256: "", files: 0, tarBytes: 0 };

/** Run `jobs` on the local backend (or the given driver) and keep every event. */
export async function runLocal(
  jobs: readonly Job[],
  extra: Partial<Omit<RunOptions, "jobs" | "events" | "runDir" | "hosts" | "bundle">> & {
    runDir?: string;
    driver?: (backend: Backend, runDir: string, events: EventStream) => BackendDriver;
    /** How hosts get the project (default: each task's directory, see pushTaskDirs). */
    pushProject?: (host: Host) => Promise<void>;
    onEvent?: (e: TroupeEvent) => void;
  } = {},
): Promise<Harness> {
  const runDir = extra.runDir ?? (await tempDir());
  const events = new EventStream();
  const seen: TroupeEvent[] = [];
  events.on((e) => {
    seen.push(e);
    extra.onEvent?.(e);
  });
  const { driver, onEvent: _onEvent, pushProject, ...rest } = extra;
  const push = pushProject ?? pushTaskDirs(jobs);
  const context = { runDir, projectDir: "/nowhere", remotePath: "/remote/proj", events };
  // Every driver pushes the harness's way (a capability the pool uses).
  const hosts = new HostPool({
    events,
    context,
    factory: (backend) => ({ ...(driver ? driver(backend, runDir, events) : createLocalDriver(backend, context)), pushProject: push }),
  });
  const outcome = await runJobs({ jobs, runDir, events, hosts, bundle: HARNESS_BUNDLE, ...rest });
  await hosts.close();
  return {
    outcome,
    events: seen,
    runDir,
    of: <T extends TroupeEvent["type"]>(type: T) => seen.filter((e): e is Extract<TroupeEvent, { type: T }> => e.type === type),
  };
}

/** A script line appending `label` to the host's trace file (outside the project copy, so it survives discard). */
export function tr(label: string): string {
  return `echo "${label}" >> "$SPREAD_PATH/../trace"`;
}

export async function traceOf(runDir: string, host: string): Promise<string[]> {
  const text = await readFile(join(runDir, "hosts", host, "trace"), "utf8").catch(() => "");
  return text.split("\n").filter((l) => l !== "");
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
