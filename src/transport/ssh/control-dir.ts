// One private directory per process for control sockets (and the askpass
// helper). Socket paths must stay well under the 108 bytes a Unix socket
// address holds, so the directory is short and sockets are numbered.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";

let dir: string | undefined;
let counter = 0;
let askpass: string | undefined;
const liveMasters = new Set<ChildProcess>();
let exitHookInstalled = false;

/** The directory, created on first use (mode 700). */
export function controlDir(): string {
  if (dir) return dir;
  const base = tmpdir().length <= 40 ? tmpdir() : "/tmp";
  dir = mkdtempSync(join(base, "troupe-ssh-"));
  chmodSync(dir, 0o700);
  installExitHook();
  return dir;
}

/** A fresh socket path. */
export function nextControlPath(): string {
  counter += 1;
  return join(controlDir(), `c${counter}`);
}

/**
 * The SSH_ASKPASS helper: prints the password it finds in its environment, so
 * the password never appears on a command line or in a file.
 */
export function askpassHelper(): string {
  if (askpass) return askpass;
  const path = join(controlDir(), "askpass");
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$TROUPE_SSH_PASSWORD"\n`, { mode: 0o700 });
  askpass = path;
  return path;
}

/** Masters still running when the process exits are ended there and then. */
export function trackMaster(child: ChildProcess): void {
  liveMasters.add(child);
  child.once("exit", () => liveMasters.delete(child));
  installExitHook();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveMasters) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
