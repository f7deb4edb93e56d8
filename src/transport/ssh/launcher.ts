// Starting `ssh` processes from a small helper instead of from troupe's own
// process. Node starts a child with fork() and then waits until the child has
// run exec(); troupe's process is large (60 MB of mappings to copy, then to
// tear down again in the child), so each start costs about 1 ms of CPU and
// blocks the event loop for 4 ms on a quiet 2-core machine and 15-20 ms on a
// busy one, while nothing else happens: a `troupe exec` on 100 hosts spent
// most of its run inside spawn(). A bash process of a few MB forks in a
// fraction of that and does not wait for anything.
//
// Each helper is `bash -c HELPER K` started with 2K extra pipes (fds
// 3..2K+2), a pair for each of its K slots, and it forks at once one slot
// shell per slot, which keeps only its own pair and waits for a line on it.
// A launch writes a file for the slot and a newline into the slot's first
// pipe (a socket pair: troupe writes, the slot shell reads): the slot shell
// sources the file, which starts the program in the background with the pair
// as its stdout and stderr (and /dev/null as its stdin), reports `p SLOT PID`,
// closes its own copies of the pair (so that troupe sees EOF when the program
// is done), waits, and reports `x SLOT STATUS`. So a launch costs one fork of
// a small shell that was ready for it, and nothing queues behind another.
// A helper's slots are used once; when they are all used, the next launch
// starts a new helper (with four times as many slots, up to 64), which was
// started already when the previous one was three quarters used.
//
// Only what a one-shot `ssh` needs: no stdin, no environment of its own, no
// terminal. The program must be an absolute path (a missing one would be
// reported as status 127, not as an error to start it).

import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { errorText } from "../../util/text.js";
import { controlDir } from "./control-dir.js";
import { shQuote } from "./remote.js";

/** The part of a ChildProcess the SSH transport uses; what a helper starts has it too. */
export interface SshProcess {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: "exit" | "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: "error", listener: (err: Error) => void): unknown;
}

/** A process started by a helper. */
export interface LaunchedProcess extends SshProcess {
  readonly stdin: null;
  /** Known once the helper has started it. */
  readonly pid: number | undefined;
  /** Send `signal` now, or as soon as the process is known to run; false once it has exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

export interface LaunchOptions {
  readonly stdout?: "pipe" | "ignore";
  readonly stderr?: "pipe" | "ignore";
  /** The program's argv[0] (default: `file`), as spawn("ssh") would give it `ssh`. */
  readonly argv0?: string;
  /**
   * Run it as the leader of a session of its own (through setsid(1), when
   * there is one), as spawn() with `detached` does; otherwise it shares the
   * helper's session. `argv0` must then find `file` in PATH, as setsid looks
   * the program up again.
   */
  readonly session?: boolean;
}

/**
 * The helper, run as `bash -c HELPER troupe-launcher K PREFIX`: one slot
 * shell per slot (see the file comment), each with its pair moved to fds
 * 250 and 251 and every other slot's fds closed, then it closes them all
 * itself and waits for the slot shells. A slot shell whose line never comes
 * (troupe is gone) ends on EOF. BASH_ENV, which a non-interactive bash would
 * run first, is kept from it and handed back to what it starts.
 */
const HELPER = [
  'if [ -n "${TROUPE_BASH_ENV+set}" ]; then export BASH_ENV="$TROUPE_BASH_ENV"; unset TROUPE_BASH_ENV; fi',
  "K=$1 P=$2 N=$((3 + 2 * $1)) ALL= f=3",
  'while [ "$f" -lt "$N" ]; do ALL="$ALL $f>&-"; f=$((f + 1)); done',
  "i=0",
  'while [ "$i" -lt "$K" ]; do',
  "  (",
  '    eval "exec 250>&$((3 + 2 * i)) 251>&$((4 + 2 * i)) $ALL"',
  "    IFS= read -r _ <&250 || exit 0",
  '    . "$P$i"',
  "  ) &",
  "  i=$((i + 1))",
  "done",
  'eval "exec $ALL"',
  "wait",
].join("\n");

/** Where a slot shell's pair is: see HELPER. */
const SLOT_OUT = 250;
const SLOT_ERR = 251;

function helperEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (env["BASH_ENV"] !== undefined) {
    env["TROUPE_BASH_ENV"] = env["BASH_ENV"];
    delete env["BASH_ENV"];
  }
  return env;
}

/** Slots of the first helper, of each next one (times GROWTH), and at most. */
const FIRST_SLOTS = 8;
const GROWTH = 4;
const MAX_SLOTS = 64;

class Launched extends EventEmitter implements LaunchedProcess {
  readonly stdin = null;
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** Signals asked for before the pid was known, and those sent. */
  private pendingSignal: NodeJS.Signals | undefined;
  private readonly sent = new Set<NodeJS.Signals>();
  private exited = false;
  private openStreams = 0;
  private closed = false;

  constructor(
    readonly stdout: Readable | null,
    readonly stderr: Readable | null,
  ) {
    super();
    for (const s of [stdout, stderr]) {
      if (!s) continue;
      this.openStreams++;
      s.once("close", () => {
        this.openStreams--;
        this.maybeClose();
      });
    }
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    if (this.exited) return false;
    if (this.pid === undefined) {
      this.pendingSignal = signal;
      return true;
    }
    try {
      process.kill(this.pid, signal);
      this.sent.add(signal);
      return true;
    } catch {
      return false;
    }
  }

  /** The helper started it. */
  started(pid: number): void {
    this.pid = pid;
    if (this.pendingSignal !== undefined) this.kill(this.pendingSignal);
  }

  /** The helper reported its status (128+N when killed by signal N, as the shell says). */
  ended(status: number): void {
    if (this.exited) return;
    this.exited = true;
    const signal = status > 128 ? signalName(status - 128) : undefined;
    // Only a signal we sent is taken as one; a program may exit with 130 on its own.
    if (signal !== undefined && this.sent.has(signal)) this.signalCode = signal;
    else this.exitCode = status;
    this.emit("exit", this.exitCode, this.signalCode);
    this.maybeClose();
  }

  /** The helper could not start it. */
  failed(err: Error): void {
    if (this.exited) return;
    this.exited = true;
    this.stdout?.destroy();
    this.stderr?.destroy();
    this.emit("error", err);
    this.closed = true;
  }

  private maybeClose(): void {
    if (this.closed || !this.exited || this.openStreams > 0) return;
    this.closed = true;
    this.emit("close", this.exitCode, this.signalCode);
  }
}

function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, value] of Object.entries(osConstants.signals)) if (value === n) return name as NodeJS.Signals;
  return undefined;
}

/** One bash helper and its slots. */
class Helper {
  readonly child: ChildProcess;
  private next = 0;
  private readonly running = new Map<number, { proc: Launched; file: string }>();
  private buffer = "";
  private stderrTail = "";
  private dead = false;
  private readonly prefix: string;

  constructor(
    bash: string,
    readonly slots: number,
    dir: string,
    id: number,
    private readonly setsid: string | undefined,
  ) {
    this.prefix = join(dir, `h${id}-`);
    const stdio: ("pipe" | "ignore")[] = ["ignore", "pipe", "pipe"];
    for (let i = 0; i < 2 * slots; i++) stdio.push("pipe");
    // Its own session, as every ssh troupe starts: a Ctrl-C on the terminal is troupe's to handle.
    this.child = spawn(bash, ["-c", HELPER, "troupe-launcher", String(slots), this.prefix], {
      stdio,
      detached: true,
      env: helperEnv(),
    });
    this.child.unref();
    // Complaints are only kept for messages, and must not keep troupe alive.
    unrefStream(this.child.stderr);
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (text: string) => this.onReport(text));
    this.child.stderr?.on("data", (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString("utf8")).slice(-1000);
    });
    this.child.once("error", (err) => this.die(`cannot run ${bash}: ${err.message}`));
    // Every slot shell holds the report pipe: it closes once they have all ended, their reports read.
    this.child.stdout?.once("close", () => this.die("the launcher's shells are gone"));
    for (let i = 3; i < 3 + 2 * slots; i++) {
      const s = this.child.stdio[i] as Writable | null;
      s?.on("error", () => undefined);
      unrefStream(s);
    }
    this.ref();
  }

  get full(): boolean {
    return this.next >= this.slots || this.dead;
  }

  /** Slots not used yet. */
  get free(): number {
    return this.dead ? 0 : this.slots - this.next;
  }

  launch(file: string, args: readonly string[], o: LaunchOptions): Launched {
    const slot = this.next++;
    const pair = [this.child.stdio[3 + 2 * slot], this.child.stdio[4 + 2 * slot]] as ((Readable & Writable) | null)[];
    const [out, err] = pair;
    const proc = new Launched(o.stdout === "ignore" ? null : (out ?? null), o.stderr === "ignore" ? null : (err ?? null));
    for (const s of pair) {
      if (!s || s.destroyed) continue;
      if (s === proc.stdout || s === proc.stderr) (s as { ref?: () => void }).ref?.();
      // Not read: what the program writes there goes to /dev/null. The first one still carries the request.
      else if (s === err) s.destroy();
      else s.resume();
    }
    if (this.dead || !out || out.destroyed) {
      queueMicrotask(() => proc.failed(new Error(`cannot run ${file}: ${this.why()}`)));
      return proc;
    }
    const command =
      o.session && this.setsid !== undefined
        ? [this.setsid, o.argv0 ?? file, ...args].map(shQuote).join(" ")
        : `exec -a ${shQuote(o.argv0 ?? file)} ${[file, ...args].map(shQuote).join(" ")}`;
    const toOut = o.stdout === "ignore" ? ">/dev/null" : `>&${SLOT_OUT}`;
    const toErr = o.stderr === "ignore" ? "2>/dev/null" : `2>&${SLOT_ERR}`;
    const text = [
      `${command} </dev/null ${toOut} ${toErr} ${SLOT_OUT}>&- ${SLOT_ERR}>&- &`,
      `echo "p ${slot} $!"`,
      `exec ${SLOT_OUT}>&- ${SLOT_ERR}>&-`,
      `wait "$!"`,
      `echo "x ${slot} $?"`,
      "",
    ].join("\n");
    const request = `${this.prefix}${slot}`;
    try {
      writeFileSync(request, text, { mode: 0o600 });
    } catch (e) {
      queueMicrotask(() => proc.failed(new Error(`cannot run ${file}: ${errorText(e)}`)));
      return proc;
    }
    this.running.set(slot, { proc, file: request });
    this.ref();
    out.write("\n");
    return proc;
  }

  private onReport(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const m = /^([px]) (\d+) (\d+)$/.exec(line);
      if (!m) continue;
      const entry = this.running.get(Number(m[2]));
      if (!entry) continue;
      if (m[1] === "p") {
        removeQuietly(entry.file);
        entry.proc.started(Number(m[3]));
      } else {
        this.running.delete(Number(m[2]));
        entry.proc.ended(Number(m[3]));
      }
    }
    this.ref();
  }

  /** While a process of this helper runs, its reports must keep troupe alive; not otherwise. */
  private ref(): void {
    const s = this.child.stdout as (Readable & { ref(): void; unref(): void }) | null;
    // (On a closed socket, ref() and unref() would wait for a 'connect' that never comes.)
    if (!s || s.destroyed) return;
    if (this.running.size > 0) s.ref();
    else s.unref();
  }

  /** No more launches here; those it has not reported as started fail. */
  private die(why: string): void {
    this.dead = true;
    setImmediate(() => {
      for (const [slot, { proc, file }] of this.running) {
        if (proc.pid !== undefined) continue;
        this.running.delete(slot);
        removeQuietly(file);
        proc.failed(new Error(`cannot run ssh: ${why}${this.stderrTail ? `: ${this.stderrTail.trim()}` : ""}`));
      }
      this.ref();
    });
  }

  private why(): string {
    return this.stderrTail.trim() || "the launcher is gone";
  }
}

function unrefStream(s: unknown): void {
  const socket = s as { unref?: () => void; destroyed?: boolean } | null | undefined;
  if (socket && !socket.destroyed) socket.unref?.();
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* gone already */
  }
}

/** Starts processes through bash helpers (see the file comment). */
export class Launcher {
  private current: Helper | undefined;
  /** The next helper, started once the current one is three quarters used, so that its shells are ready in time. */
  private spare: Helper | undefined;
  private slots = FIRST_SLOTS;
  private count = 0;
  private readonly setsid = findProgram("setsid");

  constructor(
    private readonly bash: string,
    private readonly dir: string = controlDir(),
  ) {}

  /** Start `file` (an absolute path) with `args`; stdin is /dev/null. */
  launch(file: string, args: readonly string[], o: LaunchOptions = {}): LaunchedProcess {
    if (!isAbsolute(file)) throw new Error(`launch needs an absolute path, not ${file}`);
    if (!this.current || this.current.full) {
      this.current = this.spare && !this.spare.full ? this.spare : this.helper();
      this.spare = undefined;
    }
    const proc = this.current.launch(file, args, o);
    if (!this.spare && this.current.free <= this.current.slots / 4) this.spare = this.helper();
    return proc;
  }

  private helper(): Helper {
    const h = new Helper(this.bash, this.slots, this.dir, ++this.count, this.setsid);
    this.slots = Math.min(MAX_SLOTS, this.slots * GROWTH);
    return h;
  }
}

/** `name` as execvp would find it in PATH, or undefined. */
export function findProgram(name: string, path = process.env["PATH"] ?? ""): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Where request files go: a private directory in /dev/shm when there is one
 * (a file there costs 0.02 ms to write and remove; on this project's ext4
 * /tmp 0.2 ms, and over 1 ms on a busy disk), else the control directory.
 * Removed when the process exits.
 */
function requestDir(): string {
  try {
    accessSync("/dev/shm", fsConstants.W_OK | fsConstants.X_OK);
    const dir = mkdtempSync("/dev/shm/troupe-launch-");
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  } catch {
    return controlDir();
  }
}

let shared: Launcher | null | undefined;

/**
 * The process-wide launcher, or undefined when there is no bash (or
 * TROUPE_SSH_LAUNCHER=off): the transport then spawns ssh itself.
 */
export function sharedLauncher(): Launcher | undefined {
  if (shared === undefined) {
    const off = (process.env["TROUPE_SSH_LAUNCHER"] ?? "").toLowerCase() === "off";
    const bash = off ? undefined : (findProgram("bash") ?? ["/bin/bash", "/usr/bin/bash"].find(isExecutable));
    shared = bash === undefined ? null : new Launcher(bash, requestDir());
  }
  return shared ?? undefined;
}
