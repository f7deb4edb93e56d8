// Readiness is an SSH banner on the port, not an accepted connection: QEMU's
// user networking accepts and closes while the guest's sshd is not up.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { waitForSsh } from "../../../src/backends/qemu/ready.js";

function listen(onConn: (n: number, sock: Socket) => void): Promise<{ srv: Server; port: number }> {
  let n = 0;
  const srv = createServer((sock) => {
    sock.on("error", () => undefined); // the waiting side hangs up as soon as it has seen enough
    onConn(++n, sock);
  });
  return new Promise((resolve) =>
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      resolve({ srv, port: typeof a === "object" && a ? a.port : 0 });
    }),
  );
}

const never = new Promise<never>(() => undefined);

test("ready once the port sends SSH-, after connections that were accepted and closed", async () => {
  const { srv, port } = await listen((n, sock) => (n < 3 ? sock.destroy() : sock.end("SSH-2.0-OpenSSH_9.2p1\r\n")));
  try {
    const r = await waitForSsh({ port, timeoutMs: 60_000, exited: never, intervalMs: 10 });
    assert.deepEqual(r, { kind: "ready" });
  } finally {
    srv.close();
  }
});

test("timeout: says what the last attempt saw", async () => {
  const { srv, port } = await listen((_n, sock) => sock.end("HTTP/1.1 400\r\n"));
  try {
    const r = await waitForSsh({ port, timeoutMs: 200, exited: never, intervalMs: 10 });
    assert.equal(r.kind, "timeout");
    assert.match(r.kind === "timeout" ? r.last : "", /not an SSH banner/);
  } finally {
    srv.close();
  }
});

test("QEMU gone or an interrupt end the wait at once", async () => {
  const { srv, port } = await listen((_n, sock) => sock.destroy());
  try {
    const exited = await waitForSsh({ port, timeoutMs: 60_000, exited: Promise.resolve(), intervalMs: 10 });
    assert.deepEqual(exited, { kind: "exited" });
    const ac = new AbortController();
    const p = waitForSsh({ port, timeoutMs: 60_000, exited: never, intervalMs: 10, signal: ac.signal });
    ac.abort();
    assert.deepEqual(await p, { kind: "interrupted" });
  } finally {
    srv.close();
  }
});
