// The orchestrator end of one host's control session: starts the relay
// script through the host's Transport, turns the request lines it forwards
// into service calls, and writes each answer back on the relay's stdin.

import { timingSafeEqual } from "node:crypto";
import { PassThrough } from "node:stream";
import type { Transport } from "../transport/transport.js";
import { TroupeError } from "../util/errors.js";
import { LineSplitter } from "../script/lines.js";
import { decodeArgs, formatAnswer, parseRelayLine } from "./codec.js";
import { runCommand, type Answer } from "./commands.js";
import { formatDuration } from "./duration.js";
import { SYNC_EXIT } from "./errors.js";
import type { LockGrant } from "./locks.js";
import type { PassedWaits } from "./replay.js";
import type { SyncService } from "./service.js";
import { errorText } from "../util/text.js";
import { setLongInterval, setLongTimeout, type LongTimer } from "../util/long-timer.js";
import { bytesToText, textToBytes } from "./values.js";

/** A request (all its chunks) may not be larger than this. */
const MAX_REQUEST = 1 << 20;
/** An answer may not be larger than this (the relay writes it into a FIFO). */
const MAX_ANSWER = 48 * 1024;
/** How much of the relay's stderr to keep for messages. */
const STDERR_KEEP = 2000;
/** How long the sweep after a lost relay may take. */
const SWEEP_TIMEOUT_MS = 10_000;

/**
 * Run on a host whose relay died without cleaning up (SIGKILL, or cut off):
 * answer every caller still waiting there, so that none stays blocked, and
 * remove the control dir. The relay does the same itself when it can.
 */
const SWEEP = `D=\${TROUPE_RELAY_DIR:?}
for f in "$D"/a.*; do
  [ -p "$f" ] && printf '69 1\\nthe sync relay on this host is gone\\n' 1<>"$f" 2>/dev/null
done
rm -rf "$D"
`;

export interface RelayOptions {
  /** The participant this relay speaks for (`client-2`). */
  readonly name: string;
  readonly transport: Transport;
  readonly service: SyncService;
  /** The control dir on the host. */
  readonly dir: string;
  /** The relay script (relayScript()). */
  readonly script: string;
  /**
   * The job's secret: the relay and troupe-ctl start every line they send
   * with it (troupe-ctl has it from TROUPE_CTL_TOKEN, which only the job's
   * scripts get); a line without it is not this job's and is refused.
   */
  readonly token: string;
  /**
   * What the host's script passed, kept across the relays of one host (a
   * REBOOT stops one and starts another): barriers and syncs it passed before
   * rebooting are answered at once when it runs again.
   */
  readonly passed?: PassedWaits;
  /** Report TCP ports in use on the host at start. */
  readonly probePorts?: boolean;
  /** Timeout of waits without `--timeout`. */
  readonly defaultTimeoutMs?: number;
  /** How long the relay may take to say it is ready. */
  readonly startTimeoutMs?: number;
  /**
   * How often to send a heartbeat and to ask whether callers that hold a
   * lock or wait are still alive (a SIGKILLed troupe-ctl runs no trap).
   * Default 1000 ms; 0 never.
   */
  readonly heartbeatMs?: number;
  /** Declare the host lost when the relay has not said anything for this long. Default 10 s. */
  readonly lostAfterMs?: number;
  /** The relay ended while it was not being closed: the host is lost. */
  readonly onLost: (reason: string) => void;
  /** A request was answered: what it was, when it came, its exit code (for the reports' timeline). */
  readonly onAnswered?: (argv: readonly string[], startMs: number, code: number) => void;
}

export interface RelayHello {
  /** The host's $PATH, as the transport's scripts see it. */
  readonly path: string;
  /** TCP ports in use on the host (empty when not probed or unknown). */
  readonly usedPorts: ReadonlySet<number>;
  /** Whether the port probe found anything to read (Linux /proc). */
  readonly portsKnown: boolean;
}

export class Relay {
  private readonly stdin = new PassThrough();
  private readonly abort = new AbortController();
  private readonly pending = new Map<string, AbortController>();
  private readonly partial = new Map<string, string>();
  private readonly grants = new Map<string, LockGrant>();
  private readonly usedPorts = new Set<number>();
  private portsKnown = false;
  private stderr = "";
  private closing = false;
  private ready = false;
  private sweeping: Promise<void> | undefined;
  private killedOnClose = false;
  private ended = false;
  private exited: Promise<void> | undefined;
  private hello: ((h: RelayHello) => void) | undefined;
  private liveness: LongTimer | undefined;
  private lastHeard = Date.now();

  constructor(private readonly options: RelayOptions) {}

  /** Start the relay; resolves once it is ready to serve troupe-ctl. */
  start(): Promise<RelayHello> {
    const o = this.options;
    return new Promise<RelayHello>((resolve, reject) => {
      let done = false;
      // Long timers: these durations are the API caller's.
      const timer = setLongTimeout(() => {
        fail(`did not start within ${formatDuration(o.startTimeoutMs ?? 30_000)}`);
        this.abort.abort();
      }, o.startTimeoutMs ?? 30_000);
      const fail = (why: string): void => {
        if (done) return;
        done = true;
        timer.clear();
        reject(new TroupeError("E_TRANSPORT", `${o.name}: the sync relay ${why}${this.stderrTail()}`));
      };
      this.hello = (h) => {
        if (done) return;
        done = true;
        this.ready = true;
        timer.clear();
        const every = o.heartbeatMs ?? 1000;
        if (every > 0) {
          this.liveness = setLongInterval(() => this.beat(), every).unref();
        }
        resolve(h);
      };
      // Bytes as they are (latin1): a request is decoded once whole. A line
      // longer than any request is not the relay's: it is dropped whole.
      let overlong = false;
      const splitter = new LineSplitter(
        (line, partial) => {
          if (partial) overlong = true;
          else if (overlong) overlong = false;
          else this.onLine(line);
        },
        { encoding: "latin1", maxLine: MAX_REQUEST + 4096, stripCR: false },
      );
      this.exited = o.transport
        .exec({
          script: o.script,
          env: { TROUPE_RELAY_DIR: o.dir, TROUPE_RELAY_TOKEN: o.token, ...(o.probePorts ? { TROUPE_RELAY_PROBE_PORTS: "1" } : {}) },
          stdin: this.stdin,
          onStdout: (b) => splitter.push(b),
          onStderr: (b) => {
            this.stderr = (this.stderr + b.toString("utf8")).slice(-STDERR_KEEP);
          },
          signal: this.abort.signal,
        })
        .then(
          (r) => (r.exitCode === null ? `killed by ${r.signal ?? "a signal"}` : `exit status ${r.exitCode}`),
          (e: unknown) => errorText(e),
        )
        .then((how) => {
          fail(`ended before it was ready (${how})`);
          this.onEnd(`control session ended: ${how}`);
        });
    });
  }

  /** Stop the relay: callers still waiting on the host are told it stopped. */
  async close(graceMs = 2000): Promise<void> {
    this.closing = true;
    this.liveness?.clear();
    // Answers of waits the service just failed (closed) are written first.
    await new Promise((r) => setImmediate(r));
    this.stdin.end();
    if (!this.exited) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(() => {
        this.killedOnClose = true;
        this.abort.abort();
        r();
      }, graceMs);
    });
    await Promise.race([this.exited, late]);
    if (timer) clearTimeout(timer);
    await this.exited;
    await this.sweeping;
  }

  /** Answer the callers a dead relay left waiting (best effort: the host may be gone too). */
  private async sweep(): Promise<void> {
    try {
      await this.options.transport.exec({
        script: SWEEP,
        env: { TROUPE_RELAY_DIR: this.options.dir },
        signal: AbortSignal.timeout(SWEEP_TIMEOUT_MS),
      });
    } catch {
      /* the host is unreachable: so are its callers */
    }
  }

  private stderrTail(): string {
    const t = this.stderr.trim();
    return t ? `: ${t.split("\n").slice(-3).join(" | ")}` : "";
  }

  private onEnd(how: string): void {
    if (this.ended) return;
    this.ended = true;
    // A relay that stopped by itself (close) has answered its callers already.
    if (this.ready && (!this.closing || this.killedOnClose)) this.sweeping = this.sweep();
    this.liveness?.clear();
    for (const ac of this.pending.values()) ac.abort();
    this.pending.clear();
    for (const g of this.grants.values()) g.release();
    this.grants.clear();
    // Before it was ready, start() reports the failure instead.
    if (this.ready && !this.closing) this.options.onLost(`lost its connection to the sync service (${how}${this.stderrTail()})`);
  }

  private onLine(raw: string): void {
    const sp = raw.indexOf(" ");
    if (sp < 0 || !this.isToken(raw.slice(0, sp))) {
      this.refuse(raw.slice(sp + 1));
      return;
    }
    this.lastHeard = Date.now();
    // Lines are decoded as UTF-8 only once a request is whole: a chunk may end inside a character.
    const line = parseRelayLine(raw.slice(sp + 1));
    switch (line.kind) {
      case "heartbeat":
        return;
      case "hello":
        this.hello?.({ path: bytesToText(line.path), usedPorts: this.usedPorts, portsKnown: this.portsKnown });
        return;
      case "port":
        this.portsKnown = true;
        this.usedPorts.add(line.port);
        return;
      case "cancel":
      case "gone":
        this.forget(line.id);
        return;
      case "dead":
        for (const id of [...this.pending.keys(), ...this.grants.keys()]) if (pidOf(id) === line.pid) this.forget(id);
        return;
      case "junk":
        return;
      case "chunk": {
        const sofar = (this.partial.get(line.id) ?? "") + line.body;
        if (sofar.length > MAX_REQUEST) {
          this.partial.delete(line.id);
          if (!line.more) this.reply(line.id, { code: SYNC_EXIT.USAGE, text: `request too large (more than ${MAX_REQUEST} bytes)` });
          else this.partial.set(line.id, "\u0000"); // swallow the rest
          return;
        }
        if (line.more) {
          this.partial.set(line.id, sofar);
          return;
        }
        this.partial.delete(line.id);
        if (sofar.startsWith("\u0000")) return;
        this.serve(line.id, decodeArgs(bytesToText(sofar)));
      }
    }
  }

  private isToken(word: string): boolean {
    const want = Buffer.from(this.options.token, "latin1");
    const got = Buffer.from(word, "latin1");
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /**
   * A line without the job's token: another job's process (or anyone who can
   * write the request FIFO) calling. Nothing it asks is done; a whole
   * request is answered with the refusal, so that its caller does not hang.
   */
  private refuse(rest: string): void {
    const line = parseRelayLine(rest);
    if (line.kind !== "chunk" || line.more) return;
    this.reply(line.id, {
      code: SYNC_EXIT.REFUSED,
      text: `refused: this sync relay belongs to another job (TROUPE_CTL_TOKEN does not match ${this.options.dir})`,
    });
  }

  /** The caller of `id` went away: withdraw its wait, or give back the lock it was granted. */
  private forget(id: string): void {
    this.pending.get(id)?.abort();
    this.pending.delete(id);
    const g = this.grants.get(id);
    if (g) {
      this.grants.delete(id);
      g.release();
    }
  }

  /** Heartbeat; and ask the relay about every caller that waits or holds a lock. */
  private beat(): void {
    if (this.ended || this.stdin.writableEnded) return;
    const silentMs = Date.now() - this.lastHeard;
    const lostAfter = this.options.lostAfterMs ?? 10_000;
    if (silentMs > lostAfter) {
      this.onEnd(`no heartbeat from the control session for ${formatDuration(silentMs)}`);
      this.abort.abort();
      return;
    }
    this.stdin.write("Y\n");
    const pids = new Set<string>();
    for (const id of this.pending.keys()) pids.add(pidOf(id));
    for (const id of this.grants.keys()) pids.add(pidOf(id));
    for (const pid of pids) this.stdin.write(`K ${pid}\n`);
  }

  private serve(id: string, argv: string[]): void {
    this.pending.get(id)?.abort(); // a dead caller's id, reused
    const ac = new AbortController();
    this.pending.set(id, ac);
    const o = this.options;
    const startMs = Date.now();
    void runCommand(argv, {
      service: o.service,
      caller: o.name,
      requestId: id,
      signal: ac.signal,
      ...(o.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: o.defaultTimeoutMs } : {}),
      grants: this.grants,
      ...(o.passed ? { passed: o.passed } : {}),
    }).then((answer) => {
      o.onAnswered?.(argv, startMs, answer.code);
      if (this.pending.get(id) === ac) this.pending.delete(id);
      if (ac.signal.aborted) {
        // Cancelled: nobody reads the answer; give back a lock granted meanwhile.
        const g = this.grants.get(id);
        if (g && !this.pending.has(id)) {
          this.grants.delete(id);
          g.release();
        }
        return;
      }
      this.reply(id, answer);
    });
  }

  private reply(id: string, answer: Answer): void {
    if (this.ended || this.stdin.writableEnded) return;
    // Values come back as the bytes they were (values.ts).
    let bytes = textToBytes(formatAnswer(id, answer.code, answer.text));
    if (bytes.length > MAX_ANSWER) {
      bytes = textToBytes(
        formatAnswer(id, SYNC_EXIT.USAGE, `answer too large for troupe-ctl (${bytes.length} bytes, at most ${MAX_ANSWER})`),
      );
    }
    this.stdin.write(bytes);
  }
}

/** Request ids are `PID.ANSWER` of the calling troupe-ctl (see codec.ts). */
function pidOf(id: string): string {
  const dot = id.indexOf(".");
  return dot < 0 ? id : id.slice(0, dot);
}
