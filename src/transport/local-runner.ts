// A fork server for local scripts. Forking the orchestrator (a Node process
// with a large heap) costs 2-4 ms per script, on the event loop; forking a
// small shell costs a fraction of that. So each local host keeps one runner
// shell that starts scripts on request, each in its own process group, and
// reports where each script's output ends with a marker line.
//
// Protocol, one script at a time per runner, whose one script file is its $1:
//   node -> runner stdin : "<id> <how>\n"    (the file: cd, exports, SCRIPT)
//   runner               : starts FILE in the background, in a process group of its own:
//                          how "b": a subshell of the runner's bash sources it (no exec)
//                          how "":  sh FILE
//   runner -> stdout     : <script's stdout>MARK <id> <status> <left>\n
//   runner -> stderr     : <script's stderr>MARK <id>\n
// The marker follows the output with nothing in between (not even a newline
// to start a line of its own), so that a line the script printed goes on at
// once: only bytes that may begin a marker wait for the next chunk.
// The script's process group is its PID, the runner's only child while it
// runs: read from /proc only when it is to be killed, so that the runner
// tells node nothing between the request and the end markers.
// A script that leaves processes running (a service started in prepare)
// retires its runner, so that their later output never mixes with another
// script's; the next script gets a new runner.
//
// A bash script runs in a forked subshell of the runner's bash instead of a
// new bash: exec'ing bash and its start-up cost about 1 ms of CPU per script,
// as much as a trivial script itself. The subshell is made to look like
// `bash FILE`: job control off, the runner's variables and arguments gone,
// $0 and BASH_SOURCE the file. The file defines the script as a function
// that the subshell calls once it is sourced: commands run while a file is
// sourced are traced with one more "+" (`++ echo hi`), a function's are not.
// What still tells a script from `bash FILE` is documented in
// docs/project-file.md: $$ is the runner's PID ($BASHPID is the script's
// own), and FUNCNAME, BASH_SUBSHELL and `return` and `local` at the top level.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { ExecResult } from "./transport.js";

/** After the runner exits, how long its output may take to be read. */
const EXIT_DRAIN_MS = 500;

/** The function a bash script's file defines, for the runner to call (see the top). */
const SCRIPT_FN = "troupe_script";

/** How often a kill looks again for a script the runner has not forked yet. */
const FORK_POLL_MS = 5;

/** Marks the end of one script's output; control characters no text output contains by chance. */
const MARK = "\u001e\u001fTROUPE-END";

/**
 * The loop, for bash, run as a file (not `bash -c`, which would leave its
 * text in BASH_EXECUTION_STRING and a "c" in $- of every script): `set -m`
 * gives each background job a process group of its own without exec'ing
 * setsid (1.5 s against 2.1 s per 1,000 scripts). A bash script's $$ is
 * this runner: what the script sends it (`kill $$`) is passed on to the
 * script's process group, as it would have reached a bash of the script's
 * own (a subshell resets these traps, so the script is killed by the
 * signals the trap catches here). bash's job notices, and
 * kill's complaint when a script left nothing behind, go to /dev/null (fd
 * 2); scripts' stderr goes to fd 4, their stdin is fd 5 (/dev/null, opened
 * once: each open and redirection of a builtin is a few syscalls per script).
 */
const BASH_RUNNER = `set -m
exec 4>&2 2>/dev/null 5</dev/null
file=$1
pid=
trap '[ -z "$pid" ] || kill -TERM -- -"$pid"' TERM
trap '[ -z "$pid" ] || kill -INT -- -"$pid"' INT
trap '[ -z "$pid" ] || kill -HUP -- -"$pid"' HUP
trap '[ -z "$pid" ] || kill -QUIT -- -"$pid"' QUIT
trap '[ -z "$pid" ] || kill -USR1 -- -"$pid"' USR1
trap '[ -z "$pid" ] || kill -USR2 -- -"$pid"' USR2
while read -r id how; do
  if [ "$how" = b ]; then
    (
      set +m
      unset -v file id how pid st left
      BASH_ARGV0=$1
      set --
      . "$0" && ${SCRIPT_FN}
    ) <&5 5<&- 2>&4 &
  else
    sh "$file" <&5 5<&- 2>&4 &
  fi
  pid=$!
  # A signal passed on ends this wait early: wait again until the script has ended.
  while :; do
    wait "$pid"
    st=$?
    [ "$st" -gt 128 ] && kill -0 "$pid" && continue
    break
  done
  if kill -0 -- -"$pid"; then left=1; else left=0; fi
  printf '${MARK} %s %s %s\\n' "$id" "$st" "$left"
  printf '${MARK} %s\\n' "$id" >&4
  pid=
  # Processes the script left running still hold this runner's output:
  # retire it, so that what they print never lands in another script's output.
  [ "$left" = 0 ] || exit 0
done
`;

/** The same loop for a plain POSIX sh, where setsid makes the process group. */
const SH_RUNNER = `
file=$1
while read -r id how; do
  setsid sh "$file" </dev/null &
  pid=$!
  wait "$pid"
  st=$?
  if kill -0 -"$pid" 2>/dev/null; then left=1; else left=0; fi
  printf '${MARK} %s %s %s\\n' "$id" "$st" "$left"
  printf '${MARK} %s\\n' "$id" >&2
  [ "$left" = 0 ] || exit 0
done
`;

const BASH = ["/bin/bash", "/usr/bin/bash"].find((p) => existsSync(p));
/** Whether the runner can run scripts written for bash with bash itself. */
export const RUNNER_BASH = BASH !== undefined;

/** Runner directories not yet removed: removed at exit if nobody closed their transport. */
const liveDirs = new Set<string>();
process.once("exit", () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

export interface RunnerJob {
  /** The script file's text: cd, exports, then the script. */
  readonly text: string;
  /** Runs it: sh by default; bash for scripts written for it (the bash the runner found). */
  readonly bash?: boolean;
  readonly onStdout?: ((chunk: Buffer) => void) | undefined;
  readonly onStderr?: ((chunk: Buffer) => void) | undefined;
}

interface Pending {
  readonly id: number;
  readonly job: RunnerJob;
  readonly resolve: (r: ExecResult) => void;
  readonly reject: (e: Error) => void;
  pid?: number;
  status?: number;
  stdoutDone: boolean;
  stderrDone: boolean;
  killedWith?: NodeJS.Signals;
}

export class LocalRunner {
  private readonly child: ChildProcess;
  private readonly dir: string;
  private nextId = 1;
  private current: Pending | undefined;
  private dead: Error | undefined;
  /** The last script left processes behind; this runner takes no more scripts. */
  private retired = false;
  /** The script file, open for writing, and its size. */
  private scriptFd: number | undefined;
  private scriptSize = 0;
  private readonly out = new MarkedStream("stdout");
  private readonly err = new MarkedStream("stderr");

  constructor(env: NodeJS.ProcessEnv) {
    this.dir = mkdtempSync(join(tmpdir(), "troupe-run-"));
    liveDirs.add(this.dir);
    // The script file's name is the runner's $1: a request is only an id and
    // a letter, which the shell's `read` takes a byte at a time from the pipe.
    const loop = join(this.dir, "runner.sh");
    writeFileSync(loop, BASH ? BASH_RUNNER : SH_RUNNER, { mode: 0o600 });
    this.child = spawn(BASH ?? "/bin/sh", [loop, join(this.dir, "script.sh")], {
      env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.on("error", (e) => this.fail(e));
    this.child.on("exit", () => this.exited());
    this.child.stdin?.on("error", () => undefined);
    this.out.attach(
      this.child.stdout!,
      (text) => this.current?.job.onStdout?.(text),
      (id, status, left) => {
        if (left) this.retired = true;
        this.endOf("stdout", id, status);
      },
    );
    this.err.attach(
      this.child.stderr!,
      (text) => this.current?.job.onStderr?.(text),
      (id) => this.endOf("stderr", id),
    );
    this.ref(false);
  }

  /**
   * The runner exits on purpose after a script that left processes behind,
   * right after printing that script's end markers. The exit can be noticed
   * before the markers are read, so the current script fails only if they
   * have not come once both pipes are drained (or, when left-behind
   * processes hold them open, after a short wait).
   */
  private exited(): void {
    this.retired = true;
    const ended = (s: Readable | null): Promise<void> =>
      !s || s.readableEnded || s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once("close", () => resolve()));
    const drained = Promise.all([ended(this.child.stdout), ended(this.child.stderr)]);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, EXIT_DRAIN_MS)));
    void Promise.race([drained, waited]).then(() => {
      clearTimeout(timer);
      this.fail(new Error("the local runner exited"));
    });
  }

  /** Whether a script can start now (one at a time). */
  get idle(): boolean {
    return !this.current && !this.dead && !this.retired;
  }

  /** Whether this runner will never take another script. */
  get finished(): boolean {
    return !!this.dead || this.retired;
  }

  /**
   * Start a script. The runner is busy from this call on; the script goes to
   * one file per runner, rewritten each time (one script at a time), and the
   * runner never forks an `rm`.
   */
  run(job: RunnerJob): Promise<ExecResult> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<ExecResult>((resolve, reject) => {
      const id = this.nextId++;
      this.current = { id, job, resolve, reject, stdoutDone: false, stderrDone: false };
      this.ref(true);
      const file = join(this.dir, "script.sh");
      try {
        this.writeScript(file, job.bash ? asFunction(job.text) : job.text);
      } catch (e) {
        this.current = undefined;
        this.ref(false);
        reject(e);
        return;
      }
      this.child.stdin!.write(job.bash ? `${id} b\n` : `${id}\n`);
    });
  }

  /**
   * Put the script into the runner's one script file. The file is written
   * over in place, never truncated: on ext4 truncating or unlinking a file
   * costs about 0.2 ms (a third of a trivial task's time), overwriting a few
   * kilobytes a hundredth of that. A shorter script is padded with blank
   * lines, which sh ignores. Synchronous on purpose: cheaper than a round
   * trip through the thread pool.
   */
  private writeScript(file: string, text: string): void {
    this.scriptFd ??= openSync(file, "w", 0o600);
    let buf = Buffer.from(text.endsWith("\n") ? text : text + "\n");
    if (buf.length < this.scriptSize) buf = Buffer.concat([buf, Buffer.alloc(this.scriptSize - buf.length, 0x0a)]);
    let off = 0;
    while (off < buf.length) off += writeSync(this.scriptFd, buf, off, buf.length - off, off);
    this.scriptSize = buf.length;
  }

  /**
   * Signal the running script's process group. Its PID, the group's, is
   * looked up when first needed; until the runner has forked it, the lookup
   * is tried again shortly, for as long as this script is the current one.
   */
  kill(signal: NodeJS.Signals): void {
    const cur = this.current;
    if (!cur) return;
    cur.killedWith = signal;
    cur.pid ??= onlyChild(this.child.pid);
    if (cur.pid === undefined) {
      setTimeout(() => {
        if (this.current === cur && cur.killedWith) this.kill(cur.killedWith);
      }, FORK_POLL_MS).unref();
      return;
    }
    try {
      process.kill(-cur.pid, signal);
    } catch {
      /* already gone */
    }
  }

  close(): void {
    this.kill("SIGKILL");
    try {
      if (this.child.pid) process.kill(-this.child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    this.fail(new Error("the local runner was closed"));
    if (this.scriptFd !== undefined) closeSync(this.scriptFd);
    this.scriptFd = undefined;
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }

  private endOf(stream: "stdout" | "stderr", id: number, status?: number): void {
    const cur = this.current;
    if (!cur || cur.id !== id) return;
    if (stream === "stdout") {
      cur.stdoutDone = true;
      cur.status = status;
    } else {
      cur.stderrDone = true;
    }
    if (!cur.stdoutDone || !cur.stderrDone) return;
    this.current = undefined;
    this.ref(false);
    const st = cur.status ?? 255;
    if (cur.killedWith && st > 128) cur.resolve({ exitCode: null, signal: cur.killedWith });
    else cur.resolve({ exitCode: st, signal: null });
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    const cur = this.current;
    this.current = undefined;
    cur?.reject(e);
  }

  /** Keep the event loop alive only while a script runs. */
  private ref(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr];
    for (const h of handles as unknown as ({ ref?: () => void; unref?: () => void } | null)[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }
}

/**
 * A bash script as the function the runner calls. The script's first line
 * shares the function's, so that its line numbers (LINENO, errors) are the
 * file's; the function is gone once it runs.
 */
function asFunction(text: string): string {
  return `${SCRIPT_FN}() { unset -f ${SCRIPT_FN}; ${text}\n}\n`;
}

/**
 * The PID of the one child of process `parent` (a runner and its current
 * script), from /proc: the kernel's list of a task's children where it keeps
 * one, else every process's parent in /proc/PID/stat.
 */
function onlyChild(parent: number | undefined): number | undefined {
  if (parent === undefined) return undefined;
  try {
    const first = readFileSync(`/proc/${parent}/task/${parent}/children`, "latin1").trim().split(" ")[0];
    return first ? Number(first) : undefined;
  } catch {
    /* no children file in this kernel: scan */
  }
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      // The fields after the command's closing parenthesis: state, then the parent's PID.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent) return Number(name);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}

/**
 * Splits a runner output stream at end markers: text before a marker belongs
 * to the current script.
 */
class MarkedStream {
  private buf = "";
  constructor(private readonly name: string) {}

  attach(stream: Readable, onText: (b: Buffer) => void, onEnd: (id: number, status?: number, left?: boolean) => void): void {
    // latin1 maps each byte to one char and back: binary output (a tar
    // stream) passes unchanged, and the ASCII markers are still found.
    stream.setEncoding("latin1");
    stream.on("data", (chunk: string) => {
      this.buf += chunk;
      for (;;) {
        const at = this.buf.indexOf(MARK);
        if (at < 0) {
          const emit = this.buf.slice(0, this.buf.length - partialMark(this.buf));
          if (emit) onText(Buffer.from(emit, "latin1"));
          this.buf = this.buf.slice(emit.length);
          return;
        }
        if (at > 0) onText(Buffer.from(this.buf.slice(0, at), "latin1"));
        this.buf = this.buf.slice(at);
        const nl = this.buf.indexOf("\n");
        if (nl < 0) return; // the marker's line is still arriving
        const [id, status, left] = this.buf.slice(MARK.length, nl).trim().split(" ").map(Number);
        this.buf = this.buf.slice(nl + 1);
        onEnd(id ?? -1, status, left === 1);
      }
    });
  }

  toString(): string {
    return this.name;
  }
}

/** How many characters at the end of `buf` may begin a marker, and so wait for more data. */
function partialMark(buf: string): number {
  for (let i = Math.max(0, buf.length - MARK.length + 1); i < buf.length; i++) {
    if (MARK.startsWith(buf.slice(i))) return buf.length - i;
  }
  return 0;
}
