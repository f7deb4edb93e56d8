// Waiting for a VM's sshd. QEMU's user networking accepts a connection on the
// forwarded port as soon as QEMU runs, whether or not anything listens in the
// guest (it then closes it): so a VM is ready when the port sends an SSH
// banner, not when it accepts. Each attempt ends on an event (the banner,
// the connection closed, QEMU gone, the deadline, an interrupt); attempts
// follow each other at a short interval until one of those says stop.

import { connect } from "node:net";

export type WaitOutcome =
  | { readonly kind: "ready" }
  | { readonly kind: "exited" }
  | { readonly kind: "timeout"; readonly last: string }
  | { readonly kind: "interrupted" };

export interface WaitSshOptions {
  readonly port: number;
  readonly host?: string;
  readonly timeoutMs: number;
  /** Resolves when QEMU is gone: no use waiting. */
  readonly exited: Promise<unknown>;
  readonly signal?: AbortSignal;
  /** Between attempts (default 500 ms). */
  readonly intervalMs?: number;
}

type Attempt = { readonly banner: true } | { readonly banner: false; readonly why: string };

/** One connection: does it say `SSH-` before it closes? */
function attempt(host: string, port: number, stop: AbortSignal): Promise<Attempt> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let seen = "";
    const done = (r: Attempt): void => {
      stop.removeEventListener("abort", onStop);
      sock.destroy();
      resolve(r);
    };
    const onStop = (): void => done({ banner: false, why: "stopped" });
    stop.addEventListener("abort", onStop, { once: true });
    sock.on("data", (chunk: Buffer) => {
      seen += chunk.toString("latin1");
      if (seen.startsWith("SSH-")) done({ banner: true });
      else if (seen.length >= 4)
        done({ banner: false, why: `port ${port} answered ${JSON.stringify(seen.slice(0, 40))}, not an SSH banner` });
    });
    sock.on("error", (e) => done({ banner: false, why: e.message }));
    sock.on("close", () => done({ banner: false, why: "sshd is not up yet (the connection was closed)" }));
  });
}

export async function waitForSsh(o: WaitSshOptions): Promise<WaitOutcome> {
  const stop = new AbortController();
  let outcome: WaitOutcome | undefined;
  const end = (o2: WaitOutcome): void => {
    outcome ??= o2;
    stop.abort();
  };
  let last = "no attempt yet";
  const timer = setTimeout(() => end({ kind: "timeout", last }), o.timeoutMs);
  const onAbort = (): void => end({ kind: "interrupted" });
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  void o.exited.then(() => end({ kind: "exited" }));
  try {
    while (!stop.signal.aborted) {
      const r = await attempt(o.host ?? "127.0.0.1", o.port, stop.signal);
      if (r.banner) end({ kind: "ready" });
      else if (!stop.signal.aborted) {
        last = r.why;
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(t);
            stop.signal.removeEventListener("abort", wake);
            resolve();
          };
          const t = setTimeout(wake, o.intervalMs ?? 500);
          stop.signal.addEventListener("abort", wake, { once: true });
        });
      }
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
  }
  return outcome ?? { kind: "timeout", last };
}
