// A transport for a host taken back only to be discarded (-discard): the
// backend's discard needs no connection (an adhoc discard script, a lab
// teardown), so none is opened, and using it is a clear error.

import { TroupeError } from "../../util/errors.js";
import type { ExecResult, Transport } from "../../transport/transport.js";
import type { Readable } from "node:stream";

export function offlineTransport(label: string): Transport {
  const refuse = (): never => {
    throw new TroupeError("E_TRANSPORT", `${label}: not connected (the host is only being discarded)`);
  };
  return {
    label,
    exec: async (): Promise<ExecResult> => refuse(),
    put: async (): Promise<void> => refuse(),
    get: async (): Promise<Readable> => refuse(),
    close: async (): Promise<void> => undefined,
  };
}
