// The Compute Engine REST API (v1) over plain HTTPS with node's fetch: the
// few calls the google backend makes, Google's error body read into a typed
// error, 5xx and rate limits retried with backoff, and a bound on how many
// requests are in flight at once (a fleet of hundreds allocates through it).
//
// The endpoint is https://compute.googleapis.com/compute/v1/ unless
// CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE (gcloud's own setting for it, the
// environment form of `gcloud config set api_endpoint_overrides/compute URL`)
// names another: a private endpoint, or a fake in tests.

import { Limiter } from "../../util/limit.js";
import { withBackoff } from "../cloud/backoff.js";
import { TroupeError } from "../../util/errors.js";
import { causeText, type TokenSource } from "./credentials.js";

export const ENDPOINT_VAR = "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE";
export const DEFAULT_ENDPOINT = "https://compute.googleapis.com/compute/v1/";

/** A failed call, as Google said it: the HTTP status, the first error's reason, its message. */
export class GoogleApiError extends Error {
  constructor(
    readonly status: number,
    /** `notFound`, `quotaExceeded`, `forbidden`, `alreadyExists`, `ZONE_RESOURCE_POOL_EXHAUSTED`, ... */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "GoogleApiError";
  }
}

/** Reasons that mean the account is out of something: nothing was made, nothing to retry. */
const QUOTA_REASONS = /quota|exhausted|limitexceeded|capacity|stockout|resource_pool/i;

export function isQuotaError(err: unknown): boolean {
  return err instanceof GoogleApiError && QUOTA_REASONS.test(err.reason) && !/ratelimit/i.test(err.reason);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof GoogleApiError && (err.status === 404 || err.reason === "notFound");
}

/** Spread's polish: `The resource ... was not found.` -> `the resource ... was not found`. */
export function polish(message: string): string {
  let m = message.trim();
  if (/^[A-Z][a-z]/.test(m)) m = m[0]!.toLowerCase() + m.slice(1);
  if (/[A-Za-z]\.$/.test(m)) m = m.slice(0, -1);
  return m.replace(/\s*\n\s*/g, " ");
}

interface ErrorBody {
  readonly error?: {
    readonly code?: number;
    readonly message?: string;
    readonly status?: string;
    readonly errors?: readonly { readonly reason?: string; readonly message?: string }[];
    readonly details?: readonly { readonly reason?: string }[];
  };
}

/** The error a response body holds (Google's JSON error shape), or a plain one. */
export function apiError(status: number, body: unknown): GoogleApiError {
  const e = (body as ErrorBody | undefined)?.error;
  const first = e?.errors?.[0];
  const reason = first?.reason ?? e?.details?.find((d) => d.reason)?.reason ?? e?.status ?? `HTTP ${status}`;
  const message = e?.message ?? first?.message ?? `HTTP ${status}`;
  return new GoogleApiError(status, reason, polish(message));
}

export interface Operation {
  readonly name: string;
  readonly status: "PENDING" | "RUNNING" | "DONE";
  readonly targetLink?: string;
  readonly error?: { readonly errors?: readonly { readonly code?: string; readonly message?: string }[] };
  readonly httpErrorStatusCode?: number;
}

export interface ComputeOptions {
  readonly credentials: TokenSource;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Requests in flight at once (default 16). */
  readonly concurrency?: number;
}

export class ComputeApi {
  readonly endpoint: string;
  private readonly limiter: Limiter;

  constructor(private readonly o: ComputeOptions) {
    const override = (o.env ?? process.env)[ENDPOINT_VAR];
    const base = override && override.trim() !== "" ? override.trim() : DEFAULT_ENDPOINT;
    this.endpoint = base.endsWith("/") ? base : `${base}/`;
    this.limiter = new Limiter(o.concurrency ?? 16);
  }

  get credentials(): TokenSource {
    return this.o.credentials;
  }

  /** One call; `path` is relative to the endpoint (`projects/P/zones/Z/instances`). 5xx and rate limits are tried again. */
  call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return withBackoff(() => this.once<T>(method, path, body, signal), {
      retry: (err) => err instanceof GoogleApiError && (err.status >= 500 || err.status === 429 || /ratelimit/i.test(err.reason)),
      attempts: 6,
      ...(signal ? { signal } : {}),
    });
  }

  private async once<T>(method: "GET" | "POST" | "DELETE", path: string, body: unknown, signal: AbortSignal | undefined): Promise<T> {
    const url = this.endpoint + path;
    const token = await this.o.credentials.token(signal);
    let res: Response;
    try {
      res = await this.limiter.run(() =>
        fetch(url, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          ...(signal ? { signal } : {}),
        }),
      );
    } catch (err) {
      if (signal?.aborted) throw new TroupeError("E_INTERRUPTED", "google: interrupted");
      throw new TroupeError("E_BACKEND", `google: cannot reach the Compute API at ${this.endpoint}: ${causeText(err)}`);
    }
    const text = await res.text();
    let data: unknown;
    try {
      data = text === "" ? {} : JSON.parse(text);
    } catch {
      data = { error: { code: res.status, message: `not JSON: ${text.slice(0, 200)}` } };
    }
    if (!res.ok) throw apiError(res.status, data);
    return data as T;
  }

  /** Wait for an operation to be DONE (the API's own long poll, two minutes a call); its error as a GoogleApiError. */
  async wait(zone: string | undefined, project: string, op: Operation, signal?: AbortSignal): Promise<Operation> {
    const scope = zone ? `zones/${zone}` : "global";
    let current = op;
    while (current.status !== "DONE") {
      current = await this.call<Operation>("POST", `projects/${project}/${scope}/operations/${current.name}/wait`, undefined, signal);
    }
    const first = current.error?.errors?.[0];
    if (first)
      throw new GoogleApiError(current.httpErrorStatusCode ?? 400, first.code ?? "OPERATION_FAILED", polish(first.message ?? "failed"));
    return current;
  }
}
