// The timeouts a script really gets, from a level's configured ones.

import type { Timeouts } from "../model/job.js";

export interface EffectiveTimeouts {
  /** Warn every this many ms; undefined: never. */
  readonly warnMs?: number;
  /** Kill after this many ms; undefined: never. */
  readonly killMs?: number;
}

/**
 * 0 and -1 mean "no timeout" (the job contract; plan/ resolves Spread's
 * defaults). As Spread does, when the kill timeout is a multiple of the warn
 * timeout the kill comes a little earlier so that its message does not race
 * with a warning: Spread takes one second off; for sub-second warn timeouts
 * (tests) half the warn period is taken off instead.
 */
export function effectiveTimeouts(t: Timeouts): EffectiveTimeouts {
  const warnMs = t.warn > 0 ? t.warn : undefined;
  let killMs = t.kill > 0 ? t.kill : undefined;
  if (warnMs !== undefined && killMs !== undefined && killMs % warnMs === 0) {
    killMs -= Math.min(1000, Math.floor(warnMs / 2));
  }
  return {
    ...(warnMs !== undefined ? { warnMs } : {}),
    ...(killMs !== undefined ? { killMs } : {}),
  };
}
