// Readiness as Spread sees it: the startup script writes its marker to the
// third serial port, which the API serves in pieces (`serialPort?port=3&
// start=N` gives what came since N and where to go on from). Only the last
// few bytes are kept between pieces, so a chatty port costs no memory.

import { TroupeError } from "../../util/errors.js";
import { pause } from "../cloud/backoff.js";
import { GoogleApiError, type ComputeApi } from "./api.js";
import { READY_MARKER, READY_PORT } from "./instance.js";

interface SerialOutput {
  readonly contents?: string;
  readonly next?: string;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** For messages: the host and its instance. */
  readonly label: string;
  readonly signal?: AbortSignal;
}

/** Resolve once READY_MARKER shows on the instance's third serial port; `instance` is its API path. */
export async function waitForMarker(api: ComputeApi, instance: string, o: WaitOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let next = "0";
  let trail = "";
  for (let round = 0; ; round++) {
    if (o.signal?.aborted) throw new TroupeError("E_INTERRUPTED", `google: interrupted while ${o.label} was booting`);
    let out: SerialOutput = {};
    try {
      out = await api.call<SerialOutput>("GET", `${instance}/serialPort?port=${READY_PORT}&start=${next}`, undefined, o.signal);
    } catch (err) {
      // Just after the insert, the port may not be there yet: nothing said so far.
      if (!(err instanceof GoogleApiError && /notready/i.test(err.reason))) throw err;
    }
    trail += out.contents ?? "";
    if (trail.includes(READY_MARKER)) return;
    trail = trail.slice(-READY_MARKER.length);
    next = out.next ?? next;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new TroupeError(
        "E_BACKEND",
        `google: ${o.label} did not say it was ready within ${Math.round(o.timeoutMs / 1000)}s ` +
          `(no ${READY_MARKER} on serial port ${READY_PORT}); raise boot-timeout if the image is only slow to boot`,
      );
    }
    // Half a second, then longer, up to 5 s between looks.
    await pause(Math.min(left, 500 * 2 ** Math.min(round, 3)), o.signal).catch(() => undefined);
  }
}
