// Local "hosts" (processes on this machine, each with its own control dir)
// and a job session over them, for the relay tests.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostAssignment } from "../../../src/exec/job-session.js";
import type { Host } from "../../../src/backends/backend.js";
import type { Job } from "../../../src/model/job.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { openSyncSession, type SyncSession, type SyncSessionOptions } from "../../../src/sync/session.js";
import { buildScript } from "../../../src/exec/prelude.js";

export interface Fleet {
  readonly session: SyncSession;
  readonly hosts: readonly HostAssignment[];
  /** Run a script on a host with the session's environment. */
  run(name: string, script: string, options?: { signal?: AbortSignal; env?: Record<string, string> }): Promise<RunResult>;
  /**
   * Run a script as a task's hook runs (the engine's prelude: set -eu, -x
   * unless `trace` is false, troupe-ctl as a function of the script's shell).
   * Its stdout holds its stderr too, as in a hook.
   */
  task(name: string, script: string, options?: { env?: Record<string, string>; trace?: boolean }): Promise<RunResult>;
  /** The control dir of a host's relay. */
  ctlDir(name: string): string;
  close(): Promise<void>;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fake job: the session reads only its name and environment. */
export function fakeJob(name = "local:debian:tests/sync", environment: { key: string; value: string }[] = []): Job {
  return { name, environment } as unknown as Job;
}

/** roles: e.g. { server: 1, client: 2 } -> server, client-1, client-2. */
export function assignments(roles: Readonly<Record<string, number>>, shell?: string): HostAssignment[] {
  const out: HostAssignment[] = [];
  let n = 0;
  for (const [role, count] of Object.entries(roles)) {
    for (let i = 1; i <= count; i++) {
      n++;
      const name = count === 1 ? role : `${role}-${i}`;
      const transport = new LocalTransport({ label: name, ...(shell ? { shell } : {}) });
      const host: Host = {
        name: `local-${n}`,
        address: `10.0.0.${n}`,
        backend: "local",
        system: "debian",
        transport,
        projectPath: "/tmp",
      };
      out.push({ host, role, index: i, name });
    }
  }
  return out;
}

/**
 * TROUPE_TEST_SHELL=/path/to/sh (e.g. a `sh` symlink to busybox) runs the
 * relay, the scripts and troupe-ctl itself under that shell instead of /bin/sh.
 */
const testShell = process.env.TROUPE_TEST_SHELL || undefined;
let wrapperDir: string | undefined;

/** A dir with a `troupe-ctl` that runs the installed one under `shell`. */
function ctlWrapper(shell: string): string {
  if (wrapperDir) return wrapperDir;
  wrapperDir = mkdtempSync(join(tmpdir(), "troupe-ctl-shell-"));
  writeFileSync(join(wrapperDir, "troupe-ctl"), `#!/bin/sh\nTROUPE_CTL_SH=${shell} exec ${shell} "$TROUPE_CTL" "$@"\n`, { mode: 0o755 });
  return wrapperDir;
}

export async function fleet(
  roles: Readonly<Record<string, number>>,
  options: SyncSessionOptions & { shell?: string; job?: Job } = {},
): Promise<Fleet> {
  const shell = options.shell ?? testShell;
  const hosts = assignments(roles, shell);
  const ac = new AbortController();
  const session = await openSyncSession(options.job ?? fakeJob(), hosts, ac.signal, options);
  const byName = new Map(hosts.map((a) => [a.name, a]));
  const fleet: Fleet = {
    session,
    hosts,
    async run(name, script, o = {}) {
      const a = byName.get(name);
      if (!a) throw new Error(`no host ${name}`);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      // As the engine's prelude does: the session's PATH goes in front of the host's.
      const env: Record<string, string> = { ...session.env(a) };
      env.PATH = `${shell ? `${ctlWrapper(shell)}:` : ""}${env.PATH}:${process.env.PATH ?? "/usr/bin:/bin"}`;
      const r = await a.host.transport.exec({
        script,
        env: { ...env, ...o.env },
        onStdout: (b) => out.push(b),
        onStderr: (b) => err.push(b),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return { code: r.exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    },
    async task(name, script, o = {}) {
      const a = byName.get(name);
      if (!a) throw new Error(`no host ${name}`);
      const text = buildScript({ script, vars: Object.entries(session.env(a)), trace: o.trace ?? true });
      return fleet.run(name, text, o.env ? { env: o.env } : {});
    },
    ctlDir(name) {
      const a = byName.get(name);
      if (!a) throw new Error(`no host ${name}`);
      return session.env(a).TROUPE_CTL_DIR as string;
    },
    async close() {
      await session.close();
      for (const a of hosts) await a.host.transport.close();
    },
  };
  return fleet;
}
