// A sync service that stands alone (`troupe sync serve`, Avocado's
// --sync-server): processes troupe did not start (two terminals, CI jobs on
// different machines) reach one SyncService over TCP with troupe-ctl
// (TROUPE_SYNC=HOST:PORT and TROUPE_SYNC_TOKEN). The verbs are runCommand's,
// exactly as through a job's relay; only the door differs.
//
// Wire: a connection speaks for one participant and carries its requests
// one at a time; each line the client sends starts with the token.
//   client  TOKEN troupe-sync/1 NAME   hello: the protocol and who calls (NAME escaped, codec.ts)
//           TOKEN ID+ BODY / ID BODY   a request, in chunks as the relay forwards them (codec.ts)
//   server  CODE N, then N lines       each answer, as a relay writes it into troupe-ctl's FIFO
// A line with a wrong token is answered `77 1` and why, and the connection
// is closed. Closing a connection withdraws its pending wait (barrier
// arrival, lock place) and gives back the locks it holds: a troupe-ctl that
// is killed leaves nothing behind. Callers join the roster as they first say
// hello, with the address they came from (`troupe-ctl addr NAME`).

import { createServer, type Server, type Socket } from "node:net";
import { LineSplitter } from "../script/lines.js";
import { listenOn } from "../util/listen.js";
import { decodeArgs, formatReply, parseRelayLine, unescape } from "./codec.js";
import { runCommand, type Answer } from "./commands.js";
import { SYNC_EXIT } from "./errors.js";
import type { LockGrant } from "./locks.js";
import { SyncService } from "./service.js";
import { sameToken } from "./server-token.js";
import { bytesToText, textToBytes } from "./values.js";

/** The hello's protocol word; a client that speaks another is told so. */
export const SYNC_PROTOCOL = "troupe-sync/1";
/** A request (all its chunks) may not be larger than this. */
const MAX_REQUEST = 1 << 20;
/** A participant's name: what `troupe-ctl self` prints and others wait for. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** How long closing waits for clients to read their last answer before cutting them off. */
const CUT_AFTER_MS = 1000;

export interface SyncServerOptions {
  readonly host: string;
  /** 0: a free port. */
  readonly port: number;
  readonly token: string;
  /** Named in messages (`sync server "ci-42"`). */
  readonly session: string;
  /** Barriers' N without --count: the participants expected. None: --count is required. */
  readonly hosts?: number;
  /** Timeout of waits without --timeout. */
  readonly defaultTimeoutMs?: number;
  /** The flag the address came from, for messages (`--listen`). */
  readonly flag?: string;
  /** A participant said hello for the first time. */
  readonly onJoin?: (name: string, address: string) => void;
  /** A request came (no `answer`) or was answered: for a log of who waits for what. */
  readonly onCall?: (call: {
    readonly name: string;
    readonly argv: readonly string[];
    readonly answer?: Answer;
    readonly ms?: number;
  }) => void;
}

interface Connection {
  readonly socket: Socket;
  readonly address: string;
  name: string | undefined;
  /** Cancels the connection's pending wait when it goes. */
  readonly gone: AbortController;
  readonly grants: Map<string, LockGrant>;
  /** The request being read, in chunks. */
  partial: string;
  /** Requests are served one after another. */
  queue: Promise<void>;
}

export class SyncServer {
  readonly service: SyncService;
  private readonly connections = new Set<Connection>();
  private stopping: string | undefined;

  private constructor(
    private readonly server: Server,
    private readonly o: SyncServerOptions,
    /** The port listened on. */
    readonly port: number,
  ) {
    this.service = new SyncService({ hosts: [], ...(o.hosts !== undefined ? { barrierCount: o.hosts } : {}) });
  }

  /** Listen; throws E_USAGE when the address cannot be had. */
  static async start(o: SyncServerOptions): Promise<SyncServer> {
    const server = createServer({ noDelay: true });
    const port = await listenOn(server, o.host, o.port, o.flag ?? "--listen");
    const s = new SyncServer(server, o, port);
    server.on("connection", (socket) => s.accept(socket));
    return s;
  }

  /** Participants that said hello, in order of arrival. */
  get participants(): string[] {
    return this.service.roster.names();
  }

  /**
   * Stop: every pending wait fails (its troupe-ctl exits 69 saying the
   * server stopped and why), answers are written, connections closed.
   */
  async close(why: string): Promise<void> {
    if (this.stopping !== undefined) return;
    this.stopping = why;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.service.close();
    // The answers of the waits that just failed are queued first.
    await new Promise((r) => setImmediate(r));
    for (const c of this.connections) c.socket.end();
    const cut = setTimeout(() => {
      for (const c of this.connections) c.socket.destroy();
    }, CUT_AFTER_MS);
    await closed;
    clearTimeout(cut);
  }

  private accept(socket: Socket): void {
    const c: Connection = {
      socket,
      address: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
      name: undefined,
      gone: new AbortController(),
      grants: new Map(),
      partial: "",
      queue: Promise.resolve(),
    };
    if (this.stopping !== undefined) {
      socket.end(this.reply({ code: SYNC_EXIT.UNAVAILABLE, text: `the sync server ${this.label} is stopping` }));
      return;
    }
    this.connections.add(c);
    // Bytes as they are (latin1): a request is decoded once whole; a line
    // longer than any request is not troupe-ctl's: the caller is cut off.
    const splitter = new LineSplitter(
      (line, partial) => {
        if (partial) this.refuse(c, SYNC_EXIT.USAGE, `request too large (more than ${MAX_REQUEST} bytes)`);
        else this.onLine(c, line);
      },
      { encoding: "latin1", maxLine: MAX_REQUEST + 4096, stripCR: false },
    );
    socket.on("data", (b: Buffer) => splitter.push(b));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.connections.delete(c);
      c.gone.abort();
      for (const g of c.grants.values()) g.release();
      c.grants.clear();
    });
  }

  private get label(): string {
    return `"${this.o.session}" at ${this.o.host}:${this.port}`;
  }

  private onLine(c: Connection, raw: string): void {
    if (c.socket.writableEnded) return;
    const sp = raw.indexOf(" ");
    if (sp < 0 || !sameToken(raw.slice(0, sp), this.o.token)) {
      this.refuse(
        c,
        SYNC_EXIT.REFUSED,
        `refused: wrong token for the sync server ${this.label} (TROUPE_SYNC_TOKEN or --token must be the server's, from its --token-file or TROUPE_SYNC_TOKEN)`,
      );
      return;
    }
    const rest = raw.slice(sp + 1);
    if (c.name === undefined) {
      this.hello(c, rest);
      return;
    }
    const line = parseRelayLine(rest);
    if (line.kind !== "chunk") return;
    c.partial += line.body;
    if (c.partial.length > MAX_REQUEST) {
      this.refuse(c, SYNC_EXIT.USAGE, `request too large (more than ${MAX_REQUEST} bytes)`);
      return;
    }
    if (line.more) return;
    const argv = decodeArgs(bytesToText(c.partial));
    c.partial = "";
    c.queue = c.queue.then(() => this.serve(c, line.id, argv));
  }

  private hello(c: Connection, rest: string): void {
    const [protocol, escaped, ...extra] = rest.split(" ");
    if (protocol !== SYNC_PROTOCOL || escaped === undefined || extra.length > 0) {
      this.refuse(
        c,
        SYNC_EXIT.USAGE,
        `this sync server speaks ${SYNC_PROTOCOL}; the caller's troupe-ctl does not (use the one of the same troupe version)`,
      );
      return;
    }
    const name = bytesToText(unescape(escaped));
    if (!NAME.test(name) || name === "orchestrator") {
      this.refuse(
        c,
        SYNC_EXIT.USAGE,
        `${JSON.stringify(name)} is not a participant's name: letters, digits, ".", "_" and "-", at most 64, not "orchestrator" (TROUPE_HOST=NAME or troupe-ctl --as NAME)`,
      );
      return;
    }
    c.name = name;
    if (!this.service.roster.isHost(name)) {
      this.service.roster.join({ name, role: "", address: c.address });
      this.o.onJoin?.(name, c.address);
    }
  }

  private async serve(c: Connection, id: string, argv: string[]): Promise<void> {
    if (c.gone.signal.aborted) return;
    const name = c.name as string;
    const start = Date.now();
    this.o.onCall?.({ name, argv });
    let answer: Answer;
    if (this.o.hosts === undefined && argv[0] === "barrier" && !argv.some((a) => a === "--count" || a.startsWith("--count="))) {
      answer = {
        code: SYNC_EXIT.USAGE,
        text: `barrier ${argv[1] ?? ""}: how many must arrive? The sync server ${this.label} was started without --hosts N: give --count N`,
      };
    } else {
      answer = await runCommand(argv, {
        service: this.service,
        caller: name,
        requestId: id,
        signal: c.gone.signal,
        ...(this.o.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: this.o.defaultTimeoutMs } : {}),
        grants: c.grants,
      });
    }
    if (this.stopping !== undefined && answer.code === SYNC_EXIT.UNAVAILABLE) {
      answer = { code: answer.code, text: `${answer.text}: the sync server ${this.label} stopped (${this.stopping})` };
    }
    this.o.onCall?.({ name, argv, answer, ms: Date.now() - start });
    if (!c.socket.writableEnded && !c.socket.destroyed) c.socket.write(this.reply(answer));
  }

  private reply(answer: Answer): Buffer {
    return textToBytes(formatReply(answer.code, answer.text));
  }

  /** Answer once and hang up: nothing more is read from this caller. */
  private refuse(c: Connection, code: number, text: string): void {
    if (c.socket.writableEnded) return;
    c.socket.end(this.reply({ code, text }));
  }
}
