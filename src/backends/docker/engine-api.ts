// The Docker Engine API, spoken over its socket with node:http: where the
// engine is (DOCKER_HOST, the usual socket, or troupe's own engine started
// by share/engines/start.sh), requests, and errors that say what to do.
// Podman's Docker-compatible socket answers the same API.

import { existsSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Duplex, Readable } from "node:stream";
import { TroupeError } from "../../util/errors.js";

/** The API version troupe speaks: Docker 20.10 (Debian 12's docker.io) and Podman 4 both answer it. */
export const API_VERSION = "v1.41";

/** Where share/engines/start.sh docker puts the engine's socket. */
export const TROUPE_DOCKER_SOCKET = "/run/troupe-engines/docker.sock";
const USUAL_SOCKET = "/var/run/docker.sock";

export type Endpoint = { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** The engine to talk to: DOCKER_HOST when set, else the usual socket, else troupe's own engine's. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): { endpoint: Endpoint; display: string } {
  const given = env["DOCKER_HOST"]?.trim();
  if (given) {
    if (given.startsWith("unix://")) return { endpoint: { socketPath: given.slice("unix://".length) }, display: given };
    const tcp = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(given);
    if (tcp) return { endpoint: { host: tcp[1]!.replace(/^\[|\]$/g, ""), port: Number(tcp[2]) }, display: given };
    throw new TroupeError("E_BACKEND", `docker: DOCKER_HOST=${given} is neither unix:///PATH nor tcp://HOST:PORT`);
  }
  const socketPath = !existsSync(USUAL_SOCKET) && existsSync(TROUPE_DOCKER_SOCKET) ? TROUPE_DOCKER_SOCKET : USUAL_SOCKET;
  return { endpoint: { socketPath }, display: `unix://${socketPath}` };
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A JSON body. */
  readonly json?: unknown;
  /** A raw body (a tar stream), sent as `contentType`. */
  readonly body?: Readable | Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface Response {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  /** The body as it comes; read it or call `.resume()`. */
  readonly body: IncomingMessage;
}

/** An API error answer: the status and the engine's own message. */
export class DockerApiError extends Error {
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    what: string,
  ) {
    super(`docker: ${what}: ${engineMessage || `status ${status}`}`);
  }
}

export class DockerApi {
  readonly display: string;
  readonly endpoint: Endpoint;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const { endpoint, display } = dockerEndpoint(env);
    this.endpoint = endpoint;
    this.display = display;
  }

  /** One request; the response's body is left to the caller. Connection errors say what to do. */
  request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const query = Object.entries(o.query ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join("&");
    const headers: Record<string, string> = { ...o.headers };
    let payload: Buffer | Readable | undefined = o.body;
    if (o.json !== undefined) {
      payload = Buffer.from(JSON.stringify(o.json));
      headers["content-type"] = "application/json";
    } else if (o.body) headers["content-type"] = o.contentType ?? "application/x-tar";
    if (Buffer.isBuffer(payload)) headers["content-length"] = String(payload.length);
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        {
          ...this.endpoint,
          method,
          path: `/${API_VERSION}${path}${query ? `?${query}` : ""}`,
          headers,
          ...(o.signal ? { signal: o.signal } : {}),
        },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.once("error", (err: NodeJS.ErrnoException) => reject(this.connectionError(err)));
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.once("error", (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }

  /** A request whose answer is JSON (or empty); a status of 400 or more throws DockerApiError. */
  async json<T>(method: string, path: string, what: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    const text = await readAll(res.body);
    if (res.status >= 400) throw new DockerApiError(res.status, engineMessage(text), what);
    return (text.length ? JSON.parse(text) : undefined) as T;
  }

  /**
   * A request whose connection the engine takes over (exec start, attach):
   * the raw stream both ways. An error status throws DockerApiError.
   */
  hijack(path: string, json: unknown, what: string): Promise<Duplex | Readable> {
    const payload = Buffer.from(JSON.stringify(json));
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        ...this.endpoint,
        method: "POST",
        path: `/${API_VERSION}${path}`,
        headers: {
          "content-type": "application/json",
          "content-length": String(payload.length),
          connection: "Upgrade",
          upgrade: "tcp",
        },
      });
      req.once("upgrade", (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.once("response", (res) => {
        // An engine that does not upgrade still streams the output as the body.
        if ((res.statusCode ?? 0) < 400) return resolve(res);
        readAll(res).then(
          (text) => reject(new DockerApiError(res.statusCode ?? 0, engineMessage(text), what)),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      });
      req.once("error", (err: NodeJS.ErrnoException) => reject(this.connectionError(err)));
      req.end(payload);
    });
  }

  /** The engine answers: `/_ping` says OK. Throws the connection's error (what to do) otherwise. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.request("GET", "/_ping", signal ? { signal } : {});
    const text = await readAll(res.body);
    if (res.status !== 200)
      throw new TroupeError("E_BACKEND", `docker: the engine at ${this.display} answers /_ping with ${res.status} ${text.trim()}`);
  }

  private connectionError(err: NodeJS.ErrnoException): Error {
    if (err.name === "AbortError") return err;
    const where = this.display;
    switch (err.code) {
      case "ENOENT":
      case "ECONNREFUSED":
        return new TroupeError(
          "E_BACKEND",
          `docker: no Docker engine answers at ${where}: start one (on a machine without a service manager: ` +
            `share/engines/start.sh docker), or point DOCKER_HOST at it`,
        );
      case "EACCES":
        return new TroupeError(
          "E_BACKEND",
          `docker: no permission on ${where}: run troupe as a user of the socket's group (docker), or as root`,
        );
      default:
        return new TroupeError("E_BACKEND", `docker: cannot reach the engine at ${where}: ${err.message}`);
    }
  }
}

export async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function engineMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    return typeof m === "string" ? m : text.trim();
  } catch {
    return text.trim();
  }
}
