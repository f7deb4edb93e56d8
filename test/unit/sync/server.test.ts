// The sync server's wire, spoken by hand over loopback TCP: the hello, the
// token on every line, requests in chunks, answers as `CODE N` and N lines,
// a caller's call withdrawn when its connection goes, and the roster filled
// by the names callers give.

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { SYNC_EXIT } from "../../../src/sync/errors.js";
import { SyncServer, SYNC_PROTOCOL } from "../../../src/sync/server.js";
import { newToken, sameToken } from "../../../src/sync/server-token.js";

const TOKEN = newToken();

async function server(hosts?: number): Promise<SyncServer> {
  return SyncServer.start({ host: "127.0.0.1", port: 0, token: TOKEN, session: "unit", ...(hosts !== undefined ? { hosts } : {}) });
}

/** A raw client: write lines, read what comes back. */
async function client(
  s: SyncServer,
): Promise<{ socket: Socket; send(line: string): void; read(): Promise<string>; closed: Promise<void> }> {
  const socket = connect(s.port, "127.0.0.1");
  await new Promise<void>((r) => socket.once("connect", () => r()));
  socket.setEncoding("latin1");
  let got = "";
  let wake: (() => void) | undefined;
  socket.on("data", (d: string) => {
    got += d;
    wake?.();
  });
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  socket.on("end", () => wake?.());
  return {
    socket,
    closed,
    send: (line) => socket.write(`${line}\n`),
    // One whole answer: the header and its N lines.
    read: async () => {
      for (;;) {
        const m = /^(\d+) (\d+)\n/.exec(got);
        if (m) {
          const lines = got.slice(m[0].length).split("\n");
          const n = Number(m[2]);
          if (lines.length > n) {
            const answer = [m[1], ...lines.slice(0, n)].join("|");
            got = lines.slice(n).join("\n");
            return answer;
          }
        }
        if (socket.readableEnded) return got === "" ? "EOF" : `partial: ${got}`;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

test("a caller says hello with the token and its name, then asks as a relay would; answers are CODE N and N lines", async () => {
  const s = await server(2);
  try {
    const a = await client(s);
    a.send(`${TOKEN} ${SYNC_PROTOCOL} job-a`);
    a.send(`${TOKEN} 1.0 kv set greeting hello\\sworld`);
    assert.equal(await a.read(), "0");
    // A long request comes in chunks.
    a.send(`${TOKEN} 1.1+ kv get`);
    a.send(`${TOKEN} 1.1+  greet`); // the separator is a raw space, as troupe-ctl sends it
    a.send(`${TOKEN} 1.1 ing`);
    assert.equal(await a.read(), "0|hello world|");
    a.send(`${TOKEN} 1.2 self`);
    assert.equal(await a.read(), "0|job-a|");
    a.send(`${TOKEN} 1.3 addr`);
    assert.equal(await a.read(), "0|127.0.0.1|");
    assert.deepEqual(s.participants, ["job-a"]);
    a.socket.end();
    await a.closed;
  } finally {
    await s.close("test over");
  }
});

test("a wrong token, on the hello or on any later line, is answered 77 and the connection closed; nothing is done", async () => {
  const s = await server(2);
  try {
    const bad = await client(s);
    bad.send(`${"0".repeat(32)} ${SYNC_PROTOCOL} intruder`);
    bad.send(`${"0".repeat(32)} 1.0 kv set k v`);
    const refused = await bad.read();
    assert.match(refused, new RegExp(`^${SYNC_EXIT.REFUSED}\\|refused: wrong token for the sync server "unit" at 127\\.0\\.0\\.1:\\d+`));
    await bad.closed;
    const late = await client(s);
    late.send(`${TOKEN} ${SYNC_PROTOCOL} ok`);
    late.send(`${TOKEN.replace(/.$/, (c) => (c === "0" ? "1" : "0"))} 1.0 kv set k v`);
    assert.equal((await late.read()).split("|")[0], String(SYNC_EXIT.REFUSED));
    await late.closed;
    assert.equal(s.service.kv.get("k"), undefined);
    assert.deepEqual(s.participants, ["ok"]);
  } finally {
    await s.close("test over");
  }
});

test("another protocol or a bad name is a usage error that says what to do", async () => {
  const s = await server();
  try {
    const old = await client(s);
    old.send(`${TOKEN} troupe-sync/0 a`);
    assert.match(await old.read(), /^64\|this sync server speaks troupe-sync\/1/);
    const named = await client(s);
    named.send(`${TOKEN} ${SYNC_PROTOCOL} orchestrator`);
    assert.match(await named.read(), /^64\|"orchestrator" is not a participant's name/);
    const counted = await client(s);
    counted.send(`${TOKEN} ${SYNC_PROTOCOL} a`);
    counted.send(`${TOKEN} 1.0 barrier x`);
    assert.match(await counted.read(), /^64\|barrier x: how many must arrive\? .* give --count N$/);
    counted.socket.end();
  } finally {
    await s.close("test over");
  }
});

test("a connection that goes withdraws its barrier arrival; close fails the waits left, saying why", async () => {
  const s = await server(2);
  try {
    const gone = await client(s);
    gone.send(`${TOKEN} ${SYNC_PROTOCOL} gone`);
    gone.send(`${TOKEN} 1.0 barrier b`);
    const c = await client(s);
    c.send(`${TOKEN} ${SYNC_PROTOCOL} c`);
    // Until the server has read the barrier of the other connection.
    while (s.service.pendingWaits === 0) await new Promise((r) => setImmediate(r));
    gone.socket.destroy();
    await gone.closed;
    while (s.service.pendingWaits !== 0) await new Promise((r) => setImmediate(r));
    c.send(`${TOKEN} 1.0 barrier b --timeout 0`);
    assert.match(await c.read(), /^124\|barrier b: timed out/);
    c.send(`${TOKEN} 1.1 barrier b`);
    while (s.service.pendingWaits === 0) await new Promise((r) => setImmediate(r));
    const closing = s.close("SIGTERM");
    assert.match(await c.read(), /^69\|barrier b: .*: the sync server "unit" at 127\.0\.0\.1:\d+ stopped \(SIGTERM\)$/);
    await closing;
    await c.closed;
  } finally {
    await s.close("test over");
  }
});

test("tokens compare whole", () => {
  assert.equal(sameToken(TOKEN, TOKEN), true);
  assert.equal(sameToken(TOKEN.slice(1), TOKEN), false);
  assert.equal(sameToken("", TOKEN), false);
});
