import { test } from "node:test";
import assert from "node:assert/strict";
import { runCommand, type CommandContext } from "../../../src/sync/commands.js";
import { SyncService } from "../../../src/sync/service.js";
import { SYNC_EXIT } from "../../../src/sync/errors.js";
import type { LockGrant } from "../../../src/sync/locks.js";

function setup() {
  const service = new SyncService({
    hosts: [
      { name: "server", role: "server", address: "10.0.0.1" },
      { name: "client-1", role: "client", address: "10.0.0.2" },
      { name: "client-2", role: "client", address: "10.0.0.3" },
    ],
  });
  let seq = 0;
  const grants = new Map<string, Map<string, LockGrant>>();
  const run = (caller: string, argv: string[], extra: Partial<CommandContext> = {}) => {
    let g = grants.get(caller);
    if (!g) grants.set(caller, (g = new Map<string, LockGrant>()));
    const ctx: CommandContext = { service, caller, requestId: `1.${seq++}`, grants: g, ...extra };
    return runCommand(argv, ctx);
  };
  return { service, run };
}

test("usage errors are clear and exit 64", async () => {
  const { run } = setup();
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["barrier"], /barrier: missing NAME\nusage: troupe-ctl barrier NAME \[--count N\] \[--timeout D\]/],
    [["barrier", "a", "b"], /unexpected argument "b"/],
    [["barrier", "a", "--count", "x"], /--count wants a whole number >= 1, not "x"/],
    [["barrier", "a", "--count"], /--count needs a value/],
    [["barrier", "a", "--timeout", "soon"], /bad duration "soon"/],
    [["barrier", "a", "--bogus"], /unknown option --bogus/],
    [["kv"], /kv: missing set, get or del/],
    [["kv", "put", "k"], /unknown subcommand "put"/],
    [["kv", "set", "k"], /kv set: want KEY VALUE, got 1 argument/],
    [["send"], /send: missing MSG/],
    [["send", "m", "novalue"], /data must be KEY=VALUE, not "novalue"/],
    [["wait"], /wait: missing MSG/],
    [["lock"], /lock: missing NAME/],
    [["self", "x"], /unexpected argument "x"/],
  ];
  for (const [argv, re] of cases) {
    const a = await run("server", argv);
    assert.equal(a.code, SYNC_EXIT.USAGE, argv.join(" "));
    assert.match(a.text, re, argv.join(" "));
  }
});

test("kv through commands: set, get, get --wait, del, not found exits 1", async () => {
  const { run } = setup();
  assert.deepEqual(await run("server", ["kv", "set", "k", "--not-an-option"]), { code: 0, text: "" });
  assert.deepEqual(await run("client-1", ["kv", "get", "k"]), { code: 0, text: "--not-an-option\n" });
  const waiting = run("client-1", ["kv", "get", "later", "--wait", "--timeout=5s"]);
  await run("server", ["kv", "set", "later", "x y"]);
  assert.deepEqual(await waiting, { code: 0, text: "x y\n" });
  await run("server", ["kv", "del", "k"]);
  assert.deepEqual(await run("client-1", ["kv", "get", "k"]), { code: SYNC_EXIT.NOT_FOUND, text: "kv get k: not set" });
  const t = await run("client-1", ["kv", "get", "k", "--wait", "--timeout", "10ms"]);
  assert.equal(t.code, SYNC_EXIT.TIMEOUT);
  assert.equal(t.text, "kv get k: timed out after 10ms (not set)");
});

test("the default timeout applies to waits without --timeout", async () => {
  const { run } = setup();
  const a = await run("server", ["barrier", "b"], { defaultTimeoutMs: 10 });
  assert.equal(a.code, SYNC_EXIT.TIMEOUT);
});

test("send/wait print LAVA-style data: KEY=VALUE, and HOST:KEY=VALUE for --all", async () => {
  const { run } = setup();
  await run("client-1", ["send", "up", "ip=10.0.0.2", "note=a=b c"]);
  assert.deepEqual(await run("server", ["wait", "up"]), { code: 0, text: "ip=10.0.0.2\nnote=a=b c\n" });
  const all = run("server", ["wait", "up", "--all", "client"]);
  await run("client-2", ["send", "up", "ip=10.0.0.3"]);
  assert.deepEqual(await all, { code: 0, text: "client-1:ip=10.0.0.2\nclient-1:note=a=b c\nclient-2:ip=10.0.0.3\n" });
  // --all before MSG, role after it.
  assert.equal((await run("server", ["wait", "--all", "up", "client"])).code, 0);
  const missing = await run("client-1", ["wait", "up", "--all", "--timeout", "10ms"]);
  assert.equal(missing.code, SYNC_EXIT.TIMEOUT, "--all without a role waits for every other host");
  assert.equal(missing.text, "wait --all up: timed out after 10ms (not sent by: server)");
});

test("lock hands out a token; unlock with it frees the lock", async () => {
  const { run, service } = setup();
  const a = await run("client-1", ["lock", "L"]);
  assert.equal(a.code, 0);
  assert.equal(service.locks.holder("L"), "client-1");
  const waiting = run("client-2", ["lock", "L", "--timeout", "1s"]);
  await run("client-1", ["unlock", "L", "bogus-token"]);
  assert.equal(service.locks.holder("L"), "client-1", "a wrong token releases nothing");
  await run("client-1", ["unlock", "L", a.text.trim()]);
  assert.equal((await waiting).code, 0);
  assert.equal(service.locks.holder("L"), "client-2");
});

test("discovery verbs", async () => {
  const { run } = setup();
  assert.deepEqual(await run("client-2", ["self"]), { code: 0, text: "client-2\n" });
  assert.deepEqual(await run("client-2", ["role"]), { code: 0, text: "client\n" });
  assert.deepEqual(await run("client-2", ["hosts"]), { code: 0, text: "server\nclient-1\nclient-2\n" });
  assert.deepEqual(await run("client-2", ["hosts", "client"]), { code: 0, text: "client-1\nclient-2\n" });
  assert.deepEqual(await run("client-2", ["addr", "server"]), { code: 0, text: "10.0.0.1\n" });
  assert.deepEqual(await run("client-2", ["addr"]), { code: 0, text: "10.0.0.3\n" });
  assert.deepEqual(await run("client-2", ["addr", "client"]), { code: 0, text: "10.0.0.2\n10.0.0.3\n" });
  const nf = await run("client-2", ["addr", "db"]);
  assert.equal(nf.code, SYNC_EXIT.NOT_FOUND);
  assert.match(nf.text, /no host or role "db" in this job \(hosts: server, client-1, client-2; roles: server, client\)/);
  assert.equal((await run("client-2", ["hosts", "db"])).code, SYNC_EXIT.NOT_FOUND);
});

test("port NAME prints a reserved port; an unknown name exits 1 listing those reserved", async () => {
  const { service, run } = setup();
  assert.deepEqual(await run("client-1", ["port", "http"]), {
    code: SYNC_EXIT.NOT_FOUND,
    text: "port http: no port of that name; the job reserves none (see ports: in task.yaml)",
  });
  // The session stores reserved ports as port/NAME.
  service.kv.set("port/http", "20123");
  service.kv.set("port/admin", "20456");
  assert.deepEqual(await run("client-1", ["port", "http"]), { code: 0, text: "20123\n" });
  assert.deepEqual(await run("client-1", ["port", "db"]), {
    code: SYNC_EXIT.NOT_FOUND,
    text: "port db: no port of that name; reserved: admin, http",
  });
  const u = await run("server", ["port"]);
  assert.equal(u.code, SYNC_EXIT.USAGE);
  assert.match(u.text, /port: missing NAME\nusage: troupe-ctl port NAME/);
});

test("fail poisons the job and exits with the poison status itself", async () => {
  const { run, service } = setup();
  const waiting = run("server", ["barrier", "ready"]);
  const f = await run("client-2", ["fail", "disk", "full"]);
  assert.deepEqual(f, { code: SYNC_EXIT.POISONED, text: "fail: poisoned: host client-2 failed: disk full" });
  assert.deepEqual(await waiting, { code: SYNC_EXIT.POISONED, text: "barrier ready: poisoned: host client-2 failed: disk full" });
  assert.equal(service.poisoned?.host, "client-2");
});

test("baton: the first host holds it; pass hands it to the next host in role order, round and round, or to TO; only its holder may pass it", async () => {
  const { run } = setup();
  assert.deepEqual(await run("server", ["baton", "wait", "turn"]), { code: 0, text: "" });
  const c1 = run("client-1", ["baton", "wait", "turn"]);
  const c2 = run("client-2", ["baton", "wait", "turn", "--timeout", "0"]);
  assert.equal((await c2).code, SYNC_EXIT.TIMEOUT);
  assert.match((await c2).text, /baton wait turn.*held by server/);
  const notHolder = await run("client-2", ["baton", "pass", "turn"]);
  assert.equal(notHolder.code, SYNC_EXIT.USAGE);
  assert.match(notHolder.text, /baton pass turn: client-2 does not hold it \(server does\): wait for it first/);
  assert.deepEqual(await run("server", ["baton", "pass", "turn"]), { code: 0, text: "" });
  assert.deepEqual(await c1, { code: 0, text: "" });
  assert.deepEqual(await run("client-1", ["baton", "pass", "turn"]), { code: 0, text: "" });
  assert.deepEqual(await run("client-2", ["baton", "wait", "turn", "--timeout", "0"]), { code: 0, text: "" });
  // After the last host, the first; TO skips ahead; another name is another baton.
  assert.deepEqual(await run("client-2", ["baton", "pass", "turn"]), { code: 0, text: "" });
  assert.deepEqual(await run("server", ["baton", "pass", "turn", "client-2"]), { code: 0, text: "" });
  assert.deepEqual(await run("client-2", ["baton", "wait", "turn", "--timeout", "0"]), { code: 0, text: "" });
  assert.deepEqual(await run("server", ["baton", "wait", "other", "--timeout", "0"]), { code: 0, text: "" });
  const nobody = await run("client-2", ["baton", "pass", "turn", "client-9"]);
  assert.equal(nobody.code, SYNC_EXIT.NOT_FOUND);
  assert.match(nobody.text, /no host "client-9" in this job \(hosts: server, client-1, client-2\)/);
  assert.equal((await run("server", ["baton", "hold", "turn"])).code, SYNC_EXIT.USAGE);
  assert.equal((await run("server", ["baton", "pass"])).code, SYNC_EXIT.USAGE);
});

test("baton wait is poisoned like every wait", async () => {
  const { run, service } = setup();
  const w = run("client-1", ["baton", "wait", "turn"]);
  service.poison("server", "exit status 1");
  const a = await w;
  assert.equal(a.code, SYNC_EXIT.POISONED);
  assert.match(a.text, /baton wait turn: poisoned: host server failed: exit status 1/);
});
