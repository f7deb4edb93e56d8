// Reaching a new cloud machine over SSH: the run's own key pair (made once
// per backend and run, its public half handed to the machine by its boot
// script), then readiness with backoff: first the SSH banner on port 22
// (the machine is booting until then), then a login, tried again while the
// key is refused (the boot script has not put it in place yet) until the
// boot timeout. Host keys are accepted on first sight into the host's own
// known_hosts file in the run directory: the machine is new and ours.

import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { EventStream } from "../../report/events.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import { generateEd25519 } from "../lab/keys.js";
import { waitForSsh } from "../qemu/ready.js";
import { connect, type Connected } from "../ssh/connect.js";
import { machineConnectOptions } from "../ssh/machine-login.js";
import { withBackoff } from "./backoff.js";

export interface RunKey {
  /** The private key file (mode 600). */
  readonly file: string;
  /** `ssh-ed25519 AAAA... troupe-<run>` */
  readonly publicKey: string;
  /** The private key file's text (a kept machine's record holds it, for the runs that take the machine back). */
  readonly privateKey: string;
}

/** A new key pair for the machines of one backend in one run, under `dir`. */
export async function makeRunKey(dir: string, comment: string): Promise<RunKey> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = generateEd25519(comment);
  const file = join(dir, "id_ed25519");
  await writeFile(file, pair.privateKey, { mode: 0o600 });
  await writeFile(`${file}.pub`, `${pair.publicKey}\n`);
  return { file, publicKey: pair.publicKey, privateKey: pair.privateKey };
}

export interface ReachOptions {
  /** The host's name in the run. */
  readonly name: string;
  readonly address: string;
  readonly port?: number;
  readonly user: string;
  /** The private key file. */
  readonly identityFile: string;
  /** This host's own known_hosts file. */
  readonly knownHostsFile: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly events?: EventStream;
  /** Pause ceilings between login attempts (tests shorten them). */
  readonly baseMs?: number;
}

/** Wait for the machine's sshd, then log in (as root, or through sudo). */
export async function reachCloudHost(o: ReachOptions): Promise<Connected> {
  const deadline = Date.now() + o.timeoutMs;
  const port = o.port ?? 22;
  const waited = await waitForSsh({
    host: o.address,
    port,
    timeoutMs: o.timeoutMs,
    exited: new Promise(() => undefined),
    intervalMs: 1000,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (waited.kind === "interrupted") throw new TroupeError("E_INTERRUPTED", "interrupted");
  if (waited.kind !== "ready") {
    const last = waited.kind === "timeout" ? waited.last : "stopped";
    throw new TroupeError(
      "E_BACKEND",
      `${o.name} (${o.address}) did not answer on ssh within ${Math.round(o.timeoutMs / 1000)}s (${last}); raise boot-timeout if it is only slow`,
    );
  }
  let last = "";
  return withBackoff(
    () =>
      connect(
        { name: o.name, address: o.address, port, user: o.user, identityFile: o.identityFile },
        machineConnectOptions({
          knownHostsFile: o.knownHostsFile,
          auth: "key",
          ...(o.events ? { events: o.events } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        }),
      ).catch((err: unknown) => {
        last = errorText(err);
        throw err;
      }),
    {
      // Refused keys and dropped connections pass once the boot script has run; until the deadline.
      retry: (err) => isTroupeError(err) && err.code === "E_TRANSPORT" && Date.now() < deadline,
      attempts: 1000,
      baseMs: o.baseMs ?? 1000,
      maxMs: 10_000,
      ...(o.signal ? { signal: o.signal } : {}),
      onRetry: () => o.events?.message("debug", `${o.name}: not in yet (${last}); trying again`),
    },
  );
}
