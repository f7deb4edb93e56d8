// The live dashboard's HTTP server (node:http, nothing else): `/` is the
// report page in live mode, `/events` a Server-Sent Events stream of the
// page's parts, and the run's own files (logs, run.json) under their paths,
// so that the page's links work as they do on disk.
//
// Late joiners get the run as it is now, not a log of what happened: each
// client is sent the newest parts when it connects and whenever the run
// changes, at most every `intervalMs`. A client that reads slowly is sent
// nothing more until its socket drains, then only the newest parts: what the
// server holds stays one rendering of the page, however many events the run
// has and however slow its browsers are. The run never waits for them.

import { createReadStream } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";
import { errorText } from "../util/text.js";
import { isLoopback, serveUrl, type ServeAddress } from "./address.js";
import { listenOn } from "../util/listen.js";

/** What the server shows: the page, and its parts for the live updates. */
export interface LiveView {
  /** The whole page, in live mode. */
  page(): string;
  /** The parts that change, as one JSON text. */
  parts(): string;
}

export interface LiveServerOptions {
  readonly address: ServeAddress;
  /** The run's folder, whose files the page links to. */
  readonly root: string;
  readonly view: LiveView;
  /** Minimum time between two updates sent to browsers (default 200 ms). */
  readonly intervalMs?: number;
}

interface Client {
  readonly res: ServerResponse;
  /** Its socket is full: send again on drain. */
  waiting: boolean;
  /** What it was last sent. */
  sent: number;
}

/** Files of the run the server hands out; anything else (the project's bundle, ...) it does not. */
const TYPES: Record<string, string> = {
  ".log": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".html": "text/html; charset=utf-8",
};

/** Wait this many times the last rendering's time before the next. */
const RENDER_SHARE = 4;

/** How long browsers have to take the last parts when the run ends. */
const CUT_AFTER_MS = 1000;

export class LiveServer {
  readonly url: string;
  private readonly clients = new Set<Client>();
  private version = 0;
  private frame = "";
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** How long the last rendering took: the next waits at least RENDER_SHARE times as long. */
  private renderMs = 0;

  private constructor(
    private readonly server: Server,
    private readonly o: LiveServerOptions,
    port: number,
  ) {
    this.url = serveUrl(o.address.host, port);
  }

  /** Listen; throws E_USAGE when the address cannot be had (in use, not this machine's). */
  static async start(o: LiveServerOptions): Promise<LiveServer> {
    const server = createServer();
    const live = new LiveServer(server, o, await listenOn(server, o.address.host, o.address.port, "--serve"));
    server.on("request", (req, res) => live.handle(req, res));
    // A run's dashboard must never keep troupe from exiting.
    server.unref();
    return live;
  }

  /**
   * The run changed: send the new parts soon. Renderings of a large run take
   * a while (2,000 jobs: about 0.2 s), so they are spaced out to keep the
   * run's own work first: the dashboard takes at most a fifth of the time.
   */
  changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.broadcast("parts");
      },
      Math.max(this.o.intervalMs ?? 200, this.renderMs * RENDER_SHARE),
    );
    this.timer.unref();
  }

  /** Send the last parts as `end`, close every stream and stop listening. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let last = "";
    try {
      last = sse("end", this.o.view.parts());
    } catch {
      // the view is broken: close the streams all the same
    }
    // Once the last parts are out, the connection goes too (an SSE stream is kept alive otherwise).
    for (const c of this.clients) c.res.end(last, () => c.res.socket?.end());
    this.clients.clear();
    await new Promise<void>((resolve) => {
      // Browsers that read get the last parts and their connections end;
      // one that does not read is cut off shortly after: the run does not wait for it.
      const cut = setTimeout(() => this.server.closeAllConnections(), CUT_AFTER_MS);
      cut.unref();
      this.server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private broadcast(event: string): void {
    const started = performance.now();
    this.frame = sse(event, this.o.view.parts());
    this.renderMs = performance.now() - started;
    this.version++;
    for (const c of this.clients) this.send(c);
  }

  private send(c: Client): void {
    if (c.waiting || c.sent === this.version) return;
    c.sent = this.version;
    if (!c.res.write(this.frame)) {
      c.waiting = true;
      c.res.once("drain", () => {
        c.waiting = false;
        this.send(c);
      });
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader("X-Content-Type-Options", "nosniff");
    if (req.method !== "GET" && req.method !== "HEAD") return plain(res, 405, "only GET here\n");
    // On loopback, a page from another site must not read the run through a name that points here (DNS rebinding).
    if (this.o.address.loopback && !isLoopback(hostOf(req.headers.host ?? "")))
      return plain(res, 403, "this dashboard answers on loopback only\n");
    const path = decodePath(req.url ?? "/");
    if (path === undefined) return plain(res, 400, "bad path\n");
    if (path === "/") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : this.o.view.page());
      return;
    }
    if (path === "/events") return this.subscribe(res);
    void this.file(path, res).catch((err: unknown) => plain(res, 500, `${errorText(err)}\n`));
  }

  private subscribe(res: ServerResponse): void {
    if (this.closed) return plain(res, 410, "the run is over\n");
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    res.write("retry: 1000\n\n");
    // A late joiner: the run as it is now, then every change.
    if (this.version === 0) {
      this.frame = sse("parts", this.o.view.parts());
      this.version = 1;
    }
    const c: Client = { res, waiting: false, sent: 0 };
    this.clients.add(c);
    res.on("close", () => this.clients.delete(c));
    this.send(c);
    // Parts older than the run's last change are not sent: render them anew for this client.
    this.changed();
  }

  /** A file of the run's folder, or a folder's listing; nothing outside it, nothing but logs and results. */
  private async file(path: string, res: ServerResponse): Promise<void> {
    const root = await realpath(this.o.root);
    let real: string;
    try {
      real = await realpath(join(root, path));
    } catch {
      return plain(res, 404, "no such file\n");
    }
    const rel = relative(root, real);
    if (rel.startsWith("..") || rel.split(sep).some((p) => p.startsWith("."))) return plain(res, 404, "no such file\n");
    const st = await stat(real);
    if (st.isDirectory()) {
      const names = (await readdir(real, { withFileTypes: true }))
        .filter((d) => !d.name.startsWith(".") && (d.isDirectory() || TYPES[extname(d.name)]))
        .map((d) => d.name + (d.isDirectory() ? "/" : ""))
        .sort();
      return plain(res, 200, names.join("\n") + "\n");
    }
    const type = TYPES[extname(real)];
    if (!st.isFile() || !type) return plain(res, 404, "not a log or results file\n");
    res.writeHead(200, { "Content-Type": type, "Content-Length": st.size, "Cache-Control": "no-store" });
    if (res.req.method === "HEAD") return void res.end();
    createReadStream(real)
      .on("error", () => res.destroy())
      .pipe(res);
  }
}

function sse(event: string, data: string): string {
  // JSON holds no raw newline: one data line.
  return `event: ${event}\ndata: ${data}\n\n`;
}

function plain(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(text);
}

/** `127.0.0.1:8080` -> `127.0.0.1`, `[::1]:8080` -> `::1`. */
function hostOf(header: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(header);
  return v6 ? v6[1]! : header.replace(/:\d+$/, "");
}

function decodePath(url: string): string | undefined {
  try {
    const p = decodeURIComponent(new URL(url, "http://x").pathname);
    return p.includes("\0") ? undefined : p;
  } catch {
    return undefined;
  }
}
