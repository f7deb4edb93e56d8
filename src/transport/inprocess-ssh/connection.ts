// One SSH connection held inside troupe's own process (the `ssh2` client):
// set up under the shared handshake limiter, retried with backoff while the
// failure looks passing (refused, timed out, reset), given up at once when it
// cannot heal (authentication, host key). Sessions are channels on it.
//
// Host keys are checked against the keys the caller gives: anything else is
// refused, there is no "accept new".

import { setTimeout as sleep } from "node:timers/promises";
import ssh2 from "ssh2";
import type { ClientChannel, ConnectConfig } from "ssh2";
import { TroupeError } from "../../util/errors.js";
import type { Semaphore } from "../ssh/limiter.js";
import { AttemptFailed } from "../ssh/session-parts.js";
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
  /** Seconds a connection attempt may take (default 10). */
  readonly connectTimeout?: number;
  /** Seconds between keepalives; 3 unanswered end the connection (default 5). */
  readonly aliveInterval?: number;
  /** Key exchange algorithms, in order of preference (default: ssh2's). */
  readonly kex?: readonly string[];
}

export interface ConnectionOptions {
  readonly target: InProcessTarget;
  /** For messages. */
  readonly label: string;
  readonly limiter: Semaphore;
  /** Attempts before giving up (default 3). */
  readonly attempts?: number;
  /** First pause between attempts; doubles each time (default 500 ms). */
  readonly backoffMs?: number;
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
    let pause = this.o.backoffMs ?? 500;
    // What no retry can mend is read once, before the first attempt.
    let login: Credentials;
    let accepted: Buffer[];
    try {
      login = credentials(this.o.target.privateKey);
      accepted = keyBlobs(this.o.target.hostKeys);
    } catch (err) {
      throw new TroupeError("E_TRANSPORT", `cannot connect to ${this.o.label} (${this.where()}): ${(err as Error).message}`);
    }
    for (let n = 1; ; n++) {
      const release = await this.o.limiter.acquire(signal);
      try {
        const client = await this.attempt(login, accepted, signal);
        this.client = client;
        this.lastError = undefined;
        return client;
      } catch (err) {
        const failed = err instanceof AttemptFailed ? err : new AttemptFailed(errorText(err), false);
        this.lastError = failed.message;
        if (signal?.aborted) throw new TroupeError("E_INTERRUPTED", `${this.o.label}: interrupted while connecting`);
        if (failed.permanent || n >= attempts) {
          const tries = n > 1 ? ` after ${n} attempts` : "";
          throw new TroupeError("E_TRANSPORT", `cannot connect to ${this.o.label} (${this.where()})${tries}: ${failed.message}`);
        }
      } finally {
        release();
      }
      await sleep(pause, undefined, signal ? { signal } : {}).catch(() => undefined);
      pause *= 2;
    }
  }

  private attempt(login: Credentials, accepted: readonly Buffer[], signal?: AbortSignal): Promise<Client> {
    const t = this.o.target;
    let keyRefused = false;
    const config: ConnectConfig = {
      host: t.host,
      port: t.port ?? 22,
      username: t.user,
      ...login,
      readyTimeout: (t.connectTimeout ?? 10) * 1000,
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
      const onAbort = (): void => fail(new AttemptFailed("interrupted", true));
      signal?.addEventListener("abort", onAbort, { once: true });
      client.once("ready", () => {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        resolve(client);
      });
      client.on("error", (err: Error & { level?: string }) => {
        if (settled) {
          this.lastError = err.message;
          return;
        }
        if (keyRefused) fail(new AttemptFailed("host key verification failed: the host's key is not the one on record", true));
        else if (err.level === "client-authentication") fail(new AttemptFailed(`permission denied (publickey) for ${t.user}`, true));
        else if (err.level === "client-timeout") fail(new AttemptFailed(`connection timed out after ${t.connectTimeout ?? 10} s`, false));
        else fail(new AttemptFailed(err.message, /ENOTFOUND|EAI_AGAIN/.test(err.message)));
      });
      client.once("close", () => {
        if (!settled) fail(new AttemptFailed("connection closed during the handshake", false));
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
