// The local backend: hosts are processes on this machine, run as the current
// user. Each worker gets its own copy of the project inside the run's
// directory, `<runDir>/hosts/<host>/project`, which is what Spread's `path`
// (SPREAD_PATH, TROUPE_PATH) means on this backend; for a small project it
// is a link to a copy in memory (transfer/memory-copy.ts). No reboot.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { lstat, mkdir, readlink, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { LocalTransport } from "../../transport/local.js";
import { TroupeError } from "../../util/errors.js";
import { unpackLocal, type Bundle } from "../../transfer/bundle.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";

export interface LocalDriverOptions {
  /** The shell scripts run with (default /bin/sh). */
  readonly shell?: string;
  /** Keep each host's project copy when it is discarded (default: removed). */
  readonly keepCopies?: boolean;
}

/** A directory-safe host name: `ubuntu-24.04` stays, anything odd becomes `-`. */
function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[.-]+/, "") || "host";
}

export function createLocalDriver(backend: Backend, ctx: BackendContext, options: LocalDriverOptions = {}): BackendDriver {
  const open = new Map<string, Host>();
  const hostsDir = resolve(ctx.runDir, "hosts");

  /** Claim `<runDir>/hosts/<name>` atomically: the name is unique in the run even across backends. */
  async function claimName(system: System, index: number, wanted?: string): Promise<{ name: string; dir: string }> {
    const name = await claimHostName({
      runDir: ctx.runDir,
      backend: backend.name,
      system: system.name,
      index,
      ...(wanted !== undefined ? { wanted } : {}),
      sanitize: safeName,
    });
    return { name, dir: join(hostsDir, name) };
  }

  return {
    type: "local",
    leavesNothing: true,

    async allocate(system: System, index: number, hint?: AllocateOptions): Promise<Host> {
      if (ctx.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
      const { name, dir } = await claimName(system, index, hint?.name);
      const projectPath = join(dir, "project");
      await mkdir(projectPath, { recursive: true });
      const transport = new LocalTransport({ label: name, ...(options.shell ? { shell: options.shell } : {}) });
      const host: Host = {
        name,
        address: "127.0.0.1",
        backend: backend.name,
        system: system.name,
        transport,
        projectPath,
        data: { dir },
      };
      open.set(name, host);
      return host;
    },

    // The project is unpacked here; for a small one, into memory (unless the host is kept with -reuse).
    async pushProject(host: Host, bundle: Bundle): Promise<void> {
      await unpackLocal(bundle, host.projectPath, { inMemory: !ctx.keepHosts });
    },

    async discard(host: Host): Promise<void> {
      open.delete(host.name);
      await host.transport.close();
      if (!options.keepCopies) await removeTree(host.projectPath);
    },

    // -reuse: a kept host is its working copy, where the run that made it
    // left it (`<runDir>/hosts/<host>/project` of that run).
    async reuse(system: System, recorded: RecordedHost): Promise<Host | undefined> {
      const dir = recorded.data?.["dir"];
      if (typeof dir !== "string") return undefined;
      const projectPath = join(dir, "project");
      if (!existsSync(projectPath)) return undefined;
      if (open.has(recorded.name)) throw new TroupeError("E_BACKEND", `${backend.name}: ${recorded.name} is already a host of this run`);
      const transport = new LocalTransport({ label: recorded.name, ...(options.shell ? { shell: options.shell } : {}) });
      const host: Host = {
        name: recorded.name,
        address: recorded.address,
        backend: backend.name,
        system: system.name,
        transport,
        projectPath,
        data: { dir },
      };
      open.set(host.name, host);
      return host;
    },

    async release(host: Host): Promise<void> {
      open.delete(host.name);
      await host.transport.close();
    },

    async close(): Promise<void> {
      const hosts = [...open.values()];
      open.clear();
      await Promise.all(hosts.map((h) => h.transport.close()));
    },
  };
}

/**
 * Remove a working copy: the tree, and the link to it when the copy was made
 * in memory (see transfer/memory-copy.ts). The system's `rm -rf` is several
 * times faster than fs.rm on trees of many small files and runs off the
 * event loop; fs.rm is the fallback.
 */
async function removeTree(path: string): Promise<void> {
  const target = (await lstat(path).catch(() => undefined))?.isSymbolicLink() ? await readlink(path) : undefined;
  const paths = target ? [target, path] : [path];
  try {
    await execFileAsync("rm", ["-rf", "--", ...paths]);
  } catch {
    for (const p of paths) await rm(p, { recursive: true, force: true });
  }
}

const execFileAsync = promisify(execFile);
