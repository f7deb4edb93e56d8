// The `lxc` command-line client, as Spread drives LXD, or `incus` where only
// incus is installed. Which daemon: LXD_DIR when set; else the default
// socket when it is there; else troupe's own LXD (share/engines/lxd.sh) when
// its directory exists. Incus takes the same arguments for everything used
// here (launch, exec, delete, restart, list, query, config); its directory
// variable is INCUS_DIR.

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { TroupeError } from "../../util/errors.js";

/** Where share/engines/lxd.sh keeps its LXD. */
export const TROUPE_LXD_DIR = "/var/lib/troupe-engines/lxd";
const DEFAULT_LXD_SOCKETS = ["/var/lib/lxd/unix.socket", "/var/snap/lxd/common/lxd/unix.socket"];
const DEFAULT_INCUS_SOCKETS = ["/var/lib/incus/unix.socket"];

export type ClientKind = "lxc" | "incus";

export interface ClientSetup {
  readonly kind: ClientKind;
  /** The program to run (a path or a name on PATH). */
  readonly bin: string;
  /** Variables to add to the client's environment (LXD_DIR). */
  readonly env: Readonly<Record<string, string>>;
  /** The state directory in use, for messages; undefined for the default socket. */
  readonly dir?: string;
}

/** The first of `names` found on PATH, as a path. */
function onPath(name: string, path: string, exists: (p: string) => boolean): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, name);
    if (exists(p)) return p;
  }
  return undefined;
}

/**
 * Which client, and which daemon it talks to. Pure but for `exists`: `lxc`
 * first, `incus` when `lxc` is absent; undefined when neither is installed.
 */
export function clientSetup(
  env: Readonly<Record<string, string | undefined>> = process.env,
  exists: (p: string) => boolean = existsSync,
): ClientSetup | undefined {
  const path = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin";
  const lxc = onPath("lxc", path, exists);
  const kind: ClientKind | undefined = lxc ? "lxc" : onPath("incus", path, exists) ? "incus" : undefined;
  if (!kind) return undefined;
  const bin = lxc ?? onPath("incus", path, exists)!;
  const variable = kind === "lxc" ? "LXD_DIR" : "INCUS_DIR";
  const set = env[variable];
  if (set !== undefined && set !== "") return { kind, bin, env: {}, dir: set };
  const defaults = kind === "lxc" ? DEFAULT_LXD_SOCKETS : DEFAULT_INCUS_SOCKETS;
  if (defaults.some(exists)) return { kind, bin, env: {} };
  if (kind === "lxc" && exists(TROUPE_LXD_DIR)) return { kind, bin, env: { LXD_DIR: TROUPE_LXD_DIR }, dir: TROUPE_LXD_DIR };
  return { kind, bin, env: {} };
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Written to the client's stdin. */
  readonly input?: string;
}

export interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A failed client command: E_BACKEND with the client's own words. */
export class LxcError extends TroupeError {
  constructor(
    readonly args: readonly string[],
    readonly output: Output,
  ) {
    const said = (output.stderr.trim() || output.stdout.trim()).split("\n").slice(-3).join("; ");
    super("E_BACKEND", `${args.slice(0, 2).join(" ")} failed: ${said || `exit status ${output.code}`}`);
  }
}

export class LxdClient {
  constructor(readonly setup: ClientSetup) {}

  get kind(): ClientKind {
    return this.setup.kind;
  }

  /** Run the client; resolves with its output whatever the exit status. `input` is its stdin. */
  run(args: readonly string[], options: RunOptions = {}): Promise<Output> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.setup.bin, [...args], {
        env: { ...process.env, ...this.setup.env },
        stdio: [options.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"],
        // `lxc exec` passes SIGTERM on to the command in the container, and
        // waits on: an abort must end the client itself.
        ...(options.signal ? { signal: options.signal, killSignal: "SIGKILL" as const } : {}),
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on("data", (c: Buffer) => out.push(c));
      child.stderr?.on("data", (c: Buffer) => err.push(c));
      if (options.input !== undefined) {
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(options.input);
      }
      child.on("error", (e: NodeJS.ErrnoException) =>
        reject(
          e.name === "AbortError"
            ? new TroupeError("E_INTERRUPTED", `${this.setup.kind} ${args[0] ?? ""}: interrupted`)
            : new TroupeError("E_BACKEND", `cannot run ${this.setup.bin}: ${e.message}`),
        ),
      );
      child.on("close", (code, signal) =>
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
    });
  }

  /** Run the client; throws LxcError unless it exits 0. */
  async ok(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const out = await this.run(args, options);
    if (out.code !== 0) throw new LxcError(args, out);
    return out.stdout;
  }

  /** GET an API path (`/1.0/instances/NAME/state`) through `lxc query`. */
  async query<T>(path: string, options: { signal?: AbortSignal } = {}): Promise<T> {
    const text = await this.ok(["query", path], options);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TroupeError("E_BACKEND", `${this.setup.kind} query ${path}: not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** The same, synchronously, for an exit hook. */
  runSync(args: readonly string[], timeoutMs = 60_000): void {
    spawnSync(this.setup.bin, [...args], { env: { ...process.env, ...this.setup.env }, stdio: "ignore", timeout: timeoutMs });
  }
}
