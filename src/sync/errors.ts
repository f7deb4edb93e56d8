// Errors of the sync service, and the exit statuses `troupe-ctl` maps them to.
// Every failed sync call is a TroupeError with code E_SYNC; `kind` says why,
// so that the shell client can exit with a status a script can tell apart.

import { TroupeError, type ErrorCode } from "../util/errors.js";

/**
 * Exit statuses of `troupe-ctl`. Chosen away from the 1/2 that ordinary
 * commands use for failures, so that a script (or the scheduler reading a
 * failed script's status) can tell "the job was poisoned" from "my command
 * failed".
 */
export const SYNC_EXIT = {
  OK: 0,
  /** A query found nothing: `kv get` of an unset key, `addr`/`hosts` of an unknown name. */
  NOT_FOUND: 1,
  /** Bad arguments (unknown verb or flag, bad duration, missing value). */
  USAGE: 64,
  /** The relay or the sync service cannot be reached (no TROUPE_CTL_DIR, relay gone, session closed). */
  UNAVAILABLE: 69,
  /**
   * The caller is not allowed (sysexits' EX_NOPERM): a job's relay called
   * without that job's token, or a sync server with a wrong one.
   */
  REFUSED: 77,
  /** A wait ran past its `--timeout`. */
  TIMEOUT: 124,
  /** The job is poisoned: a host failed, died, lost its connection, or called `fail`. */
  POISONED: 125,
} as const;

export type SyncFailureKind = "not-found" | "usage" | "unavailable" | "timeout" | "poisoned";

const EXIT_FOR: Readonly<Record<SyncFailureKind, number>> = {
  "not-found": SYNC_EXIT.NOT_FOUND,
  usage: SYNC_EXIT.USAGE,
  unavailable: SYNC_EXIT.UNAVAILABLE,
  timeout: SYNC_EXIT.TIMEOUT,
  poisoned: SYNC_EXIT.POISONED,
};

/** A sync call that failed. The message reads `barrier ready: poisoned: host client-2 failed: exit status 1`. */
export class SyncError extends TroupeError {
  readonly kind: SyncFailureKind;

  constructor(kind: SyncFailureKind, message: string) {
    super("E_SYNC", message);
    this.name = "SyncError";
    this.kind = kind;
  }

  /** The exit status `troupe-ctl` uses for this failure. */
  get exitCode(): number {
    return EXIT_FOR[this.kind];
  }
}

export function isSyncError(e: unknown): e is SyncError {
  return e instanceof SyncError;
}

/** Why a job was poisoned: the first host failure wins and is what every wait reports. */
export interface Poison {
  /** The host that failed (`client-2`), or `orchestrator`. */
  readonly host: string;
  readonly reason: string;
  /** The host called `troupe-ctl fail REASON` (or `client.fail()`): it failed the job on purpose. */
  readonly called?: boolean;
  /**
   * Set when the job itself failed rather than one host: `E_DEADLOCK`, every
   * host waited and none could go on (deadlock.ts). `reason` then says it all.
   */
  readonly code?: ErrorCode;
}

export function describePoison(p: Poison): string {
  return p.code ? `poisoned: ${p.reason}` : `poisoned: host ${p.host} failed: ${p.reason}`;
}
