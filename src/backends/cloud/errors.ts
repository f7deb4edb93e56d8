// What a provider's error means to a fleet, whatever the provider: each
// backend sorts its API's errors into these kinds (by the provider's error
// codes, never by message text), and the fleet decides on the kind: retry
// with backoff, or stop with one line that gives the provider's reason.

import { TroupeError } from "../../util/errors.js";

export type CloudErrorKind =
  /** Too many requests: wait and try again. */
  | "throttle"
  /** An account limit (instances, vCPUs, addresses). */
  | "quota"
  /** The provider has no such machines to give now. */
  | "capacity"
  /** The credentials may not do this. */
  | "permission"
  /** No credentials, or they are not valid. */
  | "credentials"
  /** The provider cannot be reached (network, endpoint). */
  | "unreachable"
  /** A name in the project does not exist there (image, subnet, region, machine type). */
  | "not-found"
  /** A server error that may pass. */
  | "transient"
  | "other";

/** A provider error, sorted: its kind, the provider's own code and message. */
export interface CloudFailure {
  readonly kind: CloudErrorKind;
  /** The provider's error code, e.g. `InstanceLimitExceeded`. */
  readonly code?: string;
  /** The provider's message, on one line. */
  readonly reason: string;
}

/** Kinds worth another attempt after a pause. */
export function retryable(kind: CloudErrorKind): boolean {
  return kind === "throttle" || kind === "transient" || kind === "unreachable";
}

const ADVICE: Readonly<Partial<Record<CloudErrorKind, string>>> = {
  quota: "ask the provider for a higher limit, or lower max-hosts",
  capacity: "try another location or machine type, or later",
  permission: "give the credentials this permission",
  credentials: "set up credentials (see docs/backends.md)",
  unreachable: "check the network and the endpoint",
  "not-found": "check the name in the project file",
};

/** One line; `E_BACKEND` (exit 3). */
export function cloudError(provider: string, doing: string, f: CloudFailure): TroupeError {
  const reason = f.reason.replace(/\s+/g, " ").trim();
  const advice = ADVICE[f.kind];
  return new TroupeError("E_BACKEND", `${provider}: ${doing}: ${f.code ? `${f.code}: ` : ""}${reason}${advice ? `; ${advice}` : ""}`);
}
