// A container's Transport through the Engine API: no sshd in the image.
//
// exec: one exec instance per script (create, start with the connection
// taken over, inspect for the exit status). It runs the SSH transport's
// session wrapper (transport/ssh/remote.ts) under `/bin/sh -c`: the engine
// starts every exec as the leader of its own session and process group, the
// wrapper reports that group on stderr, and an abort kills the group from a
// second exec. stdout and stderr come demultiplexed from the stream
// (demux.ts). put: the archive API (PUT /containers/{id}/archive), the
// directory made first by an archive of that one entry (dir-tar.ts). get: tar on the container, through exec, as over SSH (the
// archive API names entries by their last path component only).

import { shWord } from "../../exec/shell-quote.js";
import { spawn } from "node:child_process";
import { PassThrough, type Duplex, type Readable, type Writable } from "node:stream";
import { TroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import { MarkerFilter } from "../../transport/ssh/markers.js";
import {
  getScript,
  interactiveWrapper,
  killGroupScript,
  scriptFileText,
  sessionLaunch,
  sessionToken,
  uploadScript,
} from "../../transport/ssh/remote.js";
import { EarlyStderr, feedSession } from "../../transport/ssh/session-parts.js";
import type { ExecOptions, ExecResult, Transport } from "../../transport/transport.js";
import { StreamDemux } from "./demux.js";
import { directoryTar } from "./dir-tar.js";
import { DockerApiError, type DockerApi } from "./engine-api.js";

/** Scripts longer than this are uploaded first (Linux caps one argument at 128 KiB). */
const MAX_INLINE = 100_000;
/** After asking the container to kill a group, how long before the stream is cut regardless. */
const KILL_FALLBACK_MS = 5000;
const KILLED: ExecResult = { exitCode: null, signal: "SIGTERM" };

interface ExecInspect {
  readonly Running: boolean;
  readonly ExitCode: number | null;
}

export class DockerExecTransport implements Transport {
  private closed = false;
  private readonly running = new Set<{ kill(): void; done: Promise<unknown> }>();

  constructor(
    private readonly api: DockerApi,
    /** The container's id. */
    readonly container: string,
    readonly label: string,
  ) {}

  async exec(o: ExecOptions): Promise<ExecResult> {
    if (this.closed) throw new TroupeError("E_TRANSPORT", `${this.label}: the container's transport is closed`);
    if (o.interactive) return this.execInteractive(o);
    if (o.signal?.aborted) return KILLED;
    const token = sessionToken();
    const noStdin = o.stdin === undefined;
    const cwd = o.cwd !== undefined ? { cwd: o.cwd } : {};
    let launch = sessionLaunch({ script: o.script, token, noStdin, ...(o.env ? { env: o.env } : {}), ...cwd });
    if (o.script.length > MAX_INLINE) {
      const scriptFile = await this.upload(token, o);
      launch = sessionLaunch({ script: "", token, noStdin, scriptFile, ...cwd });
    }
    // The wrapper (with the script and the environment) comes on stdin, never in the exec's command.
    return this.run({ ...o, script: launch.shellText }, token, launch.input);
  }

  /** Write the script and its environment to a file only its user can read (for large and interactive scripts). */
  private async upload(token: string, o: ExecOptions): Promise<string> {
    const scriptFile = `/tmp/.troupe-script-${token}`;
    const up = await this.run({ script: uploadScript(scriptFile), stdin: scriptFileText(scriptFile, o.env, o.script) });
    if (up.exitCode !== 0) throw new TroupeError("E_TRANSPORT", `${this.label}: cannot write the script to ${scriptFile}`);
    return scriptFile;
  }

  /** Run `o.script` as one exec; with `token`, its stderr carries the wrapper's markers. */
  private async run(o: ExecOptions & { readonly sink?: Writable }, token?: string, input?: string): Promise<ExecResult> {
    const piped = input !== undefined || o.stdin !== undefined;
    const id = await this.createExec(["/bin/sh", "-c", o.script], piped);
    const stream = await this.startExec(id);
    let pgid: number | undefined;
    let aborted = false;
    let fallback: NodeJS.Timeout | undefined;
    const early = new EarlyStderr(o.onStderr);
    const kill = (): void => {
      if (aborted) return;
      aborted = true;
      if (pgid !== undefined) void this.killGroup(pgid);
      fallback = setTimeout(() => stream.destroy(), KILL_FALLBACK_MS);
    };
    const markers = token
      ? new MarkerFilter(token, (kind, value) => {
          if (kind !== "pgid") return;
          pgid = value;
          early.flush();
          if (aborted) void this.killGroup(value);
        })
      : undefined;
    if (!markers) early.flush();
    const demux = new StreamDemux((kind, payload) => {
      if (kind !== "stdout") return early.push(markers ? markers.push(payload) : payload);
      o.onStdout?.(payload);
      // A sink that is full holds the engine's stream until it drains: memory stays bounded.
      if (o.sink && !o.sink.write(payload)) {
        stream.pause();
        o.sink.once("drain", () => stream.resume());
      }
    });
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (c: Buffer) => demux.push(c));
      stream.once("end", () => resolve());
      stream.once("close", () => resolve());
      stream.once("error", (err) => (aborted ? resolve() : reject(err)));
    });
    if (piped && "write" in stream) feedSession(stream, input, o.stdin);
    const entry = { kill, done };
    this.running.add(entry);
    const onAbort = (): void => kill();
    if (o.signal?.aborted) kill();
    else o.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await done;
    } catch (err) {
      throw new TroupeError("E_TRANSPORT", `${this.label}: the exec stream broke: ${errorText(err)}`);
    } finally {
      this.running.delete(entry);
      o.signal?.removeEventListener("abort", onAbort);
      clearTimeout(fallback);
      stream.destroy();
      if (markers) early.push(markers.end());
      early.flush();
    }
    if (aborted) return KILLED;
    const status = await this.exitStatus(id);
    return { exitCode: status, signal: null };
  }

  private async createExec(cmd: readonly string[], stdin: boolean, extra: Record<string, unknown> = {}): Promise<string> {
    try {
      const r = await this.api.json<{ Id: string }>("POST", `/containers/${this.container}/exec`, `exec on ${this.label}`, {
        json: { AttachStdin: stdin, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: cmd, ...extra },
      });
      return r.Id;
    } catch (err) {
      throw this.lost(err);
    }
  }

  private async startExec(id: string): Promise<Duplex | Readable> {
    try {
      return await this.api.hijack(`/exec/${id}/start`, { Detach: false, Tty: false }, `exec on ${this.label}`);
    } catch (err) {
      throw this.lost(err);
    }
  }

  /** The exec's exit status; the engine may take a moment after the stream ends to record it. */
  private async exitStatus(id: string): Promise<number | null> {
    for (let i = 0; ; i++) {
      const r = await this.api.json<ExecInspect>("GET", `/exec/${id}/json`, `exec on ${this.label}`);
      if (!r.Running || i >= 200) return r.ExitCode;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private async killGroup(pgid: number): Promise<void> {
    try {
      const id = await this.createExec(["/bin/sh", "-c", killGroupScript(pgid)], false);
      const s = await this.startExec(id);
      s.resume();
      await new Promise((resolve) => {
        s.once("end", resolve);
        s.once("close", resolve);
        s.once("error", resolve);
      });
    } catch {
      // The container is gone: so is the group.
    }
  }

  /** An API error on a container that is gone, as the transport's error. */
  private lost(err: unknown): Error {
    if (err instanceof DockerApiError && (err.status === 404 || err.status === 409)) {
      return new TroupeError("E_TRANSPORT", `${this.label}: the container is gone or stopped: ${err.engineMessage}`);
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  /** -shell, -debug: the docker CLI on the user's terminal. */
  private async execInteractive(o: ExecOptions): Promise<ExecResult> {
    const scriptFile = await this.upload(sessionToken(), o);
    const args = [
      "exec",
      "-it",
      this.container,
      "/bin/sh",
      "-c",
      interactiveWrapper({ script: "", scriptFile, ...(o.cwd !== undefined ? { cwd: o.cwd } : {}) }),
    ];
    return new Promise((resolve, reject) => {
      const child = spawn("docker", args, { stdio: "inherit", env: { ...process.env, DOCKER_HOST: this.api.display } });
      child.once("error", (err) =>
        reject(new TroupeError("E_TRANSPORT", `${this.label}: a shell in a container needs the docker CLI: ${err.message}`)),
      );
      child.once("exit", (code, signal) => resolve({ exitCode: code, signal }));
    });
  }

  /** Make `dir` and its missing parents: one archive request when the name allows, else `mkdir -p`. */
  async mkdir(dir: string): Promise<void> {
    const entry = dir.startsWith("/") ? directoryTar(dir) : undefined;
    if (entry) {
      try {
        await this.api.json("PUT", `/containers/${this.container}/archive`, `making ${this.label}:${dir}`, {
          query: { path: "/" },
          body: entry,
        });
        return;
      } catch (err) {
        throw this.lost(err);
      }
    }
    const mk = await this.run({ script: `mkdir -p ${shWord(dir)}` });
    if (mk.exitCode !== 0) throw new TroupeError("E_TRANSPORT", `${this.label}: cannot make ${dir}`);
  }

  /** Unpack `tar` into `dir`; `exists`: the directory is known to be there already. */
  async put(tar: Readable, dir: string, o: { readonly exists?: boolean } = {}): Promise<void> {
    if (!o.exists) await this.mkdir(dir);
    try {
      await this.api.json("PUT", `/containers/${this.container}/archive`, `sending files to ${this.label}:${dir}`, {
        query: { path: dir },
        body: tar,
        contentType: "application/x-tar",
      });
    } catch (err) {
      throw this.lost(err);
    }
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    const out = new PassThrough();
    let err = "";
    // A reader that gives up kills the tar.
    const stop = new AbortController();
    out.once("close", () => stop.abort());
    this.run({
      script: getScript(dir, paths),
      sink: out,
      signal: stop.signal,
      onStderr: (c) => (err += c.toString("utf8").slice(0, 4096)),
    }).then(
      (r) => {
        if (r.exitCode === 0) out.end();
        else
          out.destroy(new TroupeError("E_TRANSPORT", `${this.label}: tar failed in ${dir}: ${err.trim() || `exit status ${r.exitCode}`}`));
      },
      (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))),
    );
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.running];
    for (const r of all) r.kill();
    await Promise.allSettled(all.map((r) => r.done));
  }
}
