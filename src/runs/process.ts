// Which process a run is: its pid, the pid's start time and the machine's
// boot, recorded in run.json and scenario.json while the run goes on, so
// that a later look can tell a run still going from one that was killed
// (kill -9, a crash, a reboot) and left its file saying `running`. A pid
// alone is not enough: it is given again to other processes.

import { hostname } from "node:os";
import { procId, isRunning } from "../backends/lab/procs.js";
import { bootId } from "../gc/owner.js";

export interface RunProcess {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat). */
  readonly start: number;
  /** The boot it ran in (/proc/sys/kernel/random/boot_id). */
  readonly boot: string;
  /** The machine it ran on: results folders may be shared. */
  readonly host: string;
}

/** `json` with the process that writes it, as run.json and its copies hold it. */
export function withRunProcess<T extends object>(json: T): T & { process?: RunProcess } {
  const p = thisRunProcess();
  return p ? { ...json, process: p } : json;
}

/** This process, or undefined where /proc cannot tell. */
export function thisRunProcess(): RunProcess | undefined {
  const id = procId(process.pid);
  return id ? { pid: id.pid, start: id.start, boot: bootId(), host: hostname() } : undefined;
}

/**
 * Whether a run's recorded process is gone: true when it ran on this machine
 * and its process no longer runs (or the machine rebooted since); false when
 * it runs, or when this machine cannot tell (another host, no record).
 */
export function processGone(p: RunProcess | undefined, here = hostname(), boot = bootId()): boolean {
  if (!p || p.host !== here) return false;
  if (p.boot !== boot) return true;
  return !isRunning({ pid: p.pid, start: p.start });
}
