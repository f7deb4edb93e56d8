// One SSH connection held inside troupe's own process (the `ssh2` client).
// An attempt is two steps: a TCP connection, made at once, then the SSH
// handshake, made under the shared handshake limiter (key exchange and
// login cost CPU on both ends). Each failure has a reason; only those that
// another attempt may mend are retried, with backoff, a bounded number of
// times within a bounded time: a refused port (an sshd still starting),
// a connection closed or timed out during the handshake (a busy host).
// What retrying cannot mend fails at the first attempt: a host that does
// not answer at all, a name that does not resolve, a refused login or host
// key. So a host that cannot be reached costs one TCP timeout, and waiting
// for a handshake slot costs it nothing, since its TCP connection comes
// first.
//
// Host keys are checked against the keys the caller gives: anything else is
// refused, there is no "accept new".

import { connect as tcpConnect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import ssh2 from "ssh2";
import type { ClientChannel, ConnectConfig } from "ssh2";
import { TroupeError } from "../../util/errors.js";
import type { Semaphore } from "../ssh/limiter.js";
import { keyBlobs } from "./host-keys.js";
import { credentials, type Credentials } from "./key-agent.js";
import { errorText } from "../../util/text.js";

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface InProcessTarget {
  readonly host: string;
  /** Default 22. */
  readonly port?: number;
  readonly user: string;
  /** An OpenSSH private key (the text of the file). */
  readonly privateKey: string | Buffer;
  /** The host's accepted public keys, `TYPE BASE64` as in known_hosts (comments allowed). */
  readonly hostKeys: readonly string[];
  /** Seconds the SSH handshake of an attempt may take, once its TCP connection is up (default 10). */
  readonly connectTimeout?: number;
  /**
   * Seconds the TCP connection may take before the host counts as
   * unreachable, with no further attempt (default: `connectTimeout`).
   */
  readonly tcpConnectTimeout?: number;
  /** Seconds between keepalives; 3 unanswered end the connection (default 5). */
  readonly aliveInterval?: number;
  /** Key exchange algorithms, in order of preference (default: ssh2's). */
  readonly kex?: readonly string[];
}

/** Why a connection attempt failed. */
export type ConnectFailure =
  /** Nothing answers at the address (no TCP answer in time, EHOSTUNREACH...), or it accepted and said nothing. */
  | "unreachable"
  /** The name does not resolve. */
  | "unknown-host"
  /** Nothing listens on the port (yet): ECONNREFUSED. */
  | "refused"
  /** The connection was reset or closed before the handshake ended. */
  | "closed"
  /** The host answered but the handshake did not finish in time. */
  | "timeout"
  /** The host refused our login. */
  | "login"
  /** The host's key is not one we accept. */
  | "host-key"
  /** The two ends have no algorithm in common, or another protocol error. */
  | "protocol"
  /** Our own key or the accepted host keys cannot be read. */
  | "config"
  /** Another socket error (out of file descriptors or local ports...). */
  | "socket";

/** The failures another attempt may mend. */
const RETRIED: ReadonlySet<ConnectFailure> = new Set<ConnectFailure>(["refused", "closed", "timeout", "socket"]);

/** One failed attempt, as `onConnectFailed` hears of it. */
export interface ConnectAttempt {
  /** 1 for the first. */
  readonly attempt: number;
  readonly reason: ConnectFailure;
  readonly message: string;
  /** Whether another attempt follows. */
  readonly retrying: boolean;
}

/** A connection that could not be made: E_TRANSPORT, with why and after how many attempts (0: none was made). */
export class ConnectError extends TroupeError {
  constructor(
    message: string,
    readonly reason: ConnectFailure,
    readonly attempts: number,
  ) {
    super("E_TRANSPORT", message);
  }
}

export interface ConnectionOptions {
  readonly target: InProcessTarget;
  /** For messages. */
  readonly label: string;
  readonly limiter: Semaphore;
  /** Attempts at most (default 3). */
  readonly attempts?: number;
  /** First pause between attempts; doubles each time (default 250 ms). */
  readonly backoffMs?: number;
  /**
   * No new attempt once the attempts and pauses so far took this long (ms;
   * default 10 s). Time spent waiting for a handshake slot is not counted.
   */
  readonly retryForMs?: number;
  /** Told of every failed attempt. */
  readonly onFailed?: (f: ConnectAttempt) => void;
}

/** One attempt's failure, inside this file. */
class AttemptFailed extends Error {
  constructor(
    readonly reason: ConnectFailure | "interrupted",
    message: string,
  ) {
    super(message);
  }
}

/** A socket error by its errno code. */
function socketFailure(err: NodeJS.ErrnoException): AttemptFailed {
  switch (err.code) {
    case "ECONNREFUSED":
      return new AttemptFailed("refused", err.message);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
      return new AttemptFailed("unreachable", err.message);
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return new AttemptFailed("unknown-host", err.message);
    case "ECONNRESET":
    case "EPIPE":
      return new AttemptFailed("closed", err.message);
    default:
      return new AttemptFailed("socket", err.message);
  }
}

/** How a session's command ended, as the host reported it. */
export interface SessionStatus {
  readonly exitCode: number | null;
  /** `SIGTERM` etc. when killed by a signal. */
  readonly signal: string | null;
}

/** A command running on the host in a channel of its own. */
export interface Session {
  /** stdout (reading) and stdin (writing); `.stderr` is stderr. */
  readonly channel: ClientChannel;
  /** The status, once the host reports it; undefined if the channel closed without one. */
  readonly exited: Promise<SessionStatus | undefined>;
  /** Resolves when the channel closed, with the status if there was one. */
  readonly closed: Promise<SessionStatus | undefined>;
}

export class Connection {
  private client: Client | undefined;
  private opening: Promise<Client> | undefined;
  private readonly waiters = new Set<() => void>();
  /** Why the last connection ended or failed, for messages. */
  lastError: string | undefined;

  constructor(private readonly o: ConnectionOptions) {}

  get alive(): boolean {
    return this.client !== undefined;
  }

  /** user@host:port, for messages. */
  where(): string {
    const t = this.o.target;
    return `${t.user}@${t.host}:${t.port ?? 22}`;
  }

  /** Connected (connecting first if needed); E_TRANSPORT once every attempt failed. */
  ensure(signal?: AbortSignal): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.opening ??= this.open(signal).finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** Start `command` in a new session; rejects when the connection is gone or refuses a channel. */
  async exec(command: string): Promise<Session> {
    const client = this.client;
    if (!client) throw new Error(`not connected${this.reason()}`);
    return new Promise((resolve, reject) => {
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        // Listen at once: the status and the close may come in the same read
        // as the channel's confirmation, before a promise's callback runs.
        let status: SessionStatus | undefined;
        const closed = new Promise<SessionStatus | undefined>((done) => channel.once("close", () => done(status)));
        const exited = new Promise<SessionStatus | undefined>((done) => {
          channel.once("exit", (code: number | null | undefined, signal?: string) => {
            status = typeof code === "number" ? { exitCode: code, signal: null } : { exitCode: null, signal: signal ?? "SIGKILL" };
            done(status);
          });
          void closed.then(done);
        });
        resolve({ channel, exited, closed });
      });
    });
  }

  /** Resolves true once the connection is gone, false if it is still up after `ms`. */
  waitGone(ms: number): Promise<boolean> {
    if (!this.client) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (gone: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(onGone);
        resolve(gone);
      };
      const onGone = (): void => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(onGone);
    });
  }

  /** Drop the connection; sessions on it close. */
  end(): void {
    const c = this.client;
    this.client = undefined;
    c?.end();
    // `end` waits for the server; a host that went away must not keep the process alive.
    setTimeout(() => c?.destroy(), 1000).unref();
  }

  private reason(): string {
    return this.lastError ? ` (${this.lastError})` : "";
  }

  private async open(signal?: AbortSignal): Promise<Client> {
    const attempts = Math.max(1, this.o.attempts ?? 3);
    const retryForMs = this.o.retryForMs ?? 10_000;
    let pause = this.o.backoffMs ?? 250;
    // What no retry can mend is read once, before the first attempt.
    let login: Credentials;
    let accepted: Buffer[];
    try {
      login = credentials(this.o.target.privateKey);
      accepted = keyBlobs(this.o.target.hostKeys);
    } catch (err) {
      throw new ConnectError(`cannot connect to ${this.o.label} (${this.where()}): ${errorText(err)}`, "config", 0);
    }
    /** Time spent on attempts and pauses, not waiting for a handshake slot. */
    let spent = 0;
    for (let n = 1; ; n++) {
      let failed: AttemptFailed;
      try {
        const client = await this.attempt(login, accepted, signal, (ms) => (spent += ms));
        this.client = client;
        this.lastError = undefined;
        return client;
      } catch (err) {
        failed = err instanceof AttemptFailed ? err : new AttemptFailed("socket", errorText(err));
      }
      this.lastError = failed.message;
      if (signal?.aborted || failed.reason === "interrupted") {
        throw new TroupeError("E_INTERRUPTED", `${this.o.label}: interrupted while connecting`);
      }
      const reason = failed.reason;
      const retrying = RETRIED.has(reason) && n < attempts && spent + pause <= retryForMs;
      this.o.onFailed?.({ attempt: n, reason, message: failed.message, retrying });
      if (!retrying) {
        const tries = n > 1 ? ` after ${n} attempts` : "";
        throw new ConnectError(`cannot connect to ${this.o.label} (${this.where()})${tries}: ${failed.message}`, reason, n);
      }
      const t0 = performance.now();
      await sleep(pause, undefined, signal ? { signal } : {}).catch(() => undefined);
      spent += performance.now() - t0;
      pause *= 2;
    }
  }

  /** One attempt: the TCP connection, then a handshake slot, then the handshake. `count` gets the time that counts. */
  private async attempt(
    login: Credentials,
    accepted: readonly Buffer[],
    signal: AbortSignal | undefined,
    count: (ms: number) => void,
  ): Promise<Client> {
    let t0 = performance.now();
    const sock = await this.tcp(signal).finally(() => count(performance.now() - t0));
    // Until the client takes the socket: note its end, and never leave an error unheard.
    let lost: string | undefined;
    const onError = (err: Error): void => void (lost ??= err.message);
    const onClose = (): void => void (lost ??= "the connection closed before the handshake");
    sock.on("error", onError);
    sock.once("close", onClose);
    let release: () => void;
    try {
      release = await this.o.limiter.acquire(signal);
    } catch (err) {
      sock.destroy();
      throw signal?.aborted ? new AttemptFailed("interrupted", "interrupted") : err;
    }
    t0 = performance.now();
    try {
      sock.off("close", onClose);
      sock.off("error", onError);
      sock.on("error", () => undefined); // the client reports errors from now on
      if (lost !== undefined || sock.destroyed) throw new AttemptFailed("closed", lost ?? "the connection closed before the handshake");
      return await this.handshake(sock, login, accepted, signal);
    } finally {
      release();
      count(performance.now() - t0);
    }
  }

  /** A TCP connection to the host. */
  private tcp(signal?: AbortSignal): Promise<Socket> {
    const t = this.o.target;
    const port = t.port ?? 22;
    const seconds = t.tcpConnectTimeout ?? t.connectTimeout ?? 10;
    return new Promise<Socket>((resolve, reject) => {
      if (signal?.aborted) return reject(new AttemptFailed("interrupted", "interrupted"));
      const sock = tcpConnect({ host: t.host, port });
      const done = (err?: AttemptFailed): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        sock.removeListener("connect", onConnect);
        sock.removeListener("error", onError);
        if (!err) return resolve(sock);
        sock.on("error", () => undefined);
        sock.destroy();
        reject(err);
      };
      const onConnect = (): void => done();
      const onError = (err: NodeJS.ErrnoException): void => done(socketFailure(err));
      const onAbort = (): void => done(new AttemptFailed("interrupted", "interrupted"));
      const timer = setTimeout(
        () => done(new AttemptFailed("unreachable", `no answer from ${t.host}:${port} within ${seconds} s`)),
        seconds * 1000,
      );
      sock.once("connect", onConnect);
      sock.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The SSH handshake over a connected socket. */
  private handshake(sock: Socket, login: Credentials, accepted: readonly Buffer[], signal?: AbortSignal): Promise<Client> {
    const t = this.o.target;
    const seconds = t.connectTimeout ?? 10;
    let keyRefused = false;
    const config: ConnectConfig = {
      sock,
      username: t.user,
      ...login,
      readyTimeout: seconds * 1000,
      keepaliveInterval: (t.aliveInterval ?? 5) * 1000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        const ok = accepted.some((k) => k.equals(key));
        if (!ok) keyRefused = true;
        return ok;
      },
      ...(t.kex ? { algorithms: { kex: [...t.kex] as NonNullable<ConnectConfig["algorithms"]>["kex"] } } : {}),
    };
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (err: AttemptFailed): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        client.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(new AttemptFailed("interrupted", "interrupted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      client.once("ready", () => {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        resolve(client);
      });
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        if (settled) {
          this.lastError = err.message;
          return;
        }
        if (keyRefused) fail(new AttemptFailed("host-key", "host key verification failed: the host's key is not the one on record"));
        else if (err.level === "client-authentication") fail(new AttemptFailed("login", `permission denied (publickey) for ${t.user}`));
        else if (err.level === "client-timeout") {
          // Not a byte from the host: nothing there speaks SSH (a stopped sshd, a frozen host); busy hosts say hello first.
          fail(
            sock.bytesRead === 0
              ? new AttemptFailed("unreachable", `the host took the connection but said nothing within ${seconds} s`)
              : new AttemptFailed("timeout", `the SSH handshake did not finish within ${seconds} s`),
          );
        } else if (err.level === "client-socket") fail(socketFailure(err));
        else if (sock.destroyed || sock.readableEnded)
          fail(new AttemptFailed("closed", `the connection closed during the handshake (${err.message})`));
        else fail(new AttemptFailed("protocol", err.message));
      });
      client.once("close", () => {
        if (!settled) fail(new AttemptFailed("closed", "connection closed during the handshake"));
        if (this.client === client) {
          this.client = undefined;
          this.lastError ??= "the connection closed";
        }
        for (const w of [...this.waiters]) w();
      });
      client.connect(config);
    });
  }
}
