// One QEMU process: started in a process group of its own (a Ctrl-C on the
// terminal reaches troupe, which discards the VM, not QEMU directly), its
// standard error kept in a file, stopped by its identity (pid and start
// time) so that a pid reused since is never signalled.

import { spawn } from "node:child_process";
import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import { killId, procId, waitGone, type ProcId } from "../lab/procs.js";
import { QEMU_BINARY, qemuArgs, type VmLaunch } from "./args.js";

export interface RunningVm {
  readonly proc: ProcId;
  /** Resolves with QEMU's exit status (or signal) once it is gone. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/** Start QEMU; throws when it cannot be started at all (no binary). */
export async function startVm(launch: VmLaunch, stderrFile: string, binary = QEMU_BINARY): Promise<RunningVm> {
  const fd = openSync(stderrFile, "w");
  try {
    const child = spawn(binary, qemuArgs(launch), { detached: true, stdio: ["ignore", "ignore", fd] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: null, signal: null }));
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    const proc = procId(child.pid!) ?? { pid: child.pid!, start: 0 };
    return { proc, exited };
  } finally {
    closeSync(fd);
  }
}

/** Stop QEMU: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopVm(proc: ProcId, graceMs = 5000): Promise<void> {
  killId(proc, "SIGTERM");
  if (await waitGone([proc], graceMs)) return;
  killId(proc, "SIGKILL");
  await waitGone([proc], 10_000);
}

/** The last `lines` lines of a file (its last 16 KiB at most), control characters removed; "" when unreadable. */
export function fileTail(path: string, lines: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const len = Math.min(size, 16 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf
      .toString("utf8")
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
      .replace(/[^\n\t\x20-\x7e\u00a0-\uffff]/g, "")
      .split("\n")
      .map((l) => l.trimEnd())
      .filter((l) => l !== "")
      .slice(-lines)
      .join("\n");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
