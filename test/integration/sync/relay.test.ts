// troupe-ctl and the relay with real `sh` processes: three local "hosts",
// each with its own control dir, through LocalTransport.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleet, type Fleet } from "./helpers.js";
import { SYNC_EXIT } from "../../../src/sync/errors.js";

let f: Fleet;
let scratch: string;

before(async () => {
  f = await fleet({ server: 1, client: 2 });
  scratch = await mkdtemp(join(tmpdir(), "troupe-sync-it-"));
});
after(async () => {
  await f.close();
});

test("a barrier of 3 hosts holds everyone until the last arrives", async () => {
  const log = join(scratch, "barrier.log");
  const script = (delay: string) =>
    `sleep ${delay}; echo "$(troupe-ctl self) in" >> ${log}; troupe-ctl barrier ready && echo "$(troupe-ctl self) out" >> ${log}`;
  const rs = await Promise.all([f.run("server", script("0")), f.run("client-1", script("0")), f.run("client-2", script("0.3"))]);
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  const lines = (await readFile(log, "utf8")).trim().split("\n");
  assert.equal(lines[2], "client-2 in", `the late host arrives last and nobody leaves before: ${lines.join(", ")}`);
  assert.deepEqual(lines.slice(3).sort(), ["client-1 out", "client-2 out", "server out"]);
});

test("a barrier reused in a loop: nobody leaves round i before everyone entered it", async () => {
  const log = join(scratch, "loop.log");
  const script = `me=$(troupe-ctl self); for i in 1 2 3 4; do echo "$me in $i" >> ${log}; troupe-ctl barrier step || exit $?; echo "$me out $i" >> ${log}; done`;
  const rs = await Promise.all(["server", "client-1", "client-2"].map((h) => f.run(h, script)));
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  const lines = (await readFile(log, "utf8")).trim().split("\n");
  for (let i = 1; i <= 4; i++) {
    const lastIn = Math.max(...["server", "client-1", "client-2"].map((h) => lines.indexOf(`${h} in ${i}`)));
    const firstOut = Math.min(...["server", "client-1", "client-2"].map((h) => lines.indexOf(`${h} out ${i}`)));
    assert.ok(lastIn >= 0 && lastIn < firstOut, `round ${i}: ${lines.join(", ")}`);
  }
});

test("barrier --count and --timeout from the shell", async () => {
  const rs = await Promise.all([
    f.run("client-1", "troupe-ctl barrier pair --count 2"),
    f.run("client-2", "troupe-ctl barrier pair --count 2"),
  ]);
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  const t = await f.run("server", "troupe-ctl barrier lonely --timeout 100ms");
  assert.equal(t.code, SYNC_EXIT.TIMEOUT);
  assert.match(
    t.stderr,
    /^troupe-ctl: barrier lonely: timed out after 100ms \(1 of 3 arrived: server; not arrived: client-1, client-2\)\n$/,
  );
});

test("kv set / get / get --wait / del / timeout", async () => {
  const waiter = f.run("client-1", "troupe-ctl kv get db/url --wait --timeout 10s");
  await new Promise((r) => setTimeout(r, 100));
  const set = await f.run("server", 'troupe-ctl kv set db/url "postgres://10.0.0.1:5432/x"');
  assert.equal(set.code, 0, set.stderr);
  const got = await waiter;
  assert.deepEqual([got.code, got.stdout], [0, "postgres://10.0.0.1:5432/x\n"]);
  assert.equal(f.session.sync.kv.get("db/url"), "postgres://10.0.0.1:5432/x", "the orchestrator sees the same store");
  f.session.sync.kv.set("from/orchestrator", "hi");
  const r = await f.run(
    "client-2",
    'troupe-ctl kv get from/orchestrator && troupe-ctl kv del db/url && { troupe-ctl kv get db/url; echo "get=$?"; }; troupe-ctl kv get db/url --wait --timeout 50ms; echo "wait=$?"',
  );
  assert.equal(r.stdout, `hi\nget=${SYNC_EXIT.NOT_FOUND}\nwait=${SYNC_EXIT.TIMEOUT}\n`);
  assert.match(r.stderr, /kv get db\/url: not set\n.*kv get db\/url: timed out after 50ms/s);
});

test("LAVA send / wait / wait --all ROLE / sync, with message data", async () => {
  const server = f.run(
    "server",
    `troupe-ctl wait --all ready client --timeout 10s > ${scratch}/all.out && troupe-ctl send go "mode=fast lane" && troupe-ctl sync done`,
  );
  const client = (n: number) =>
    f.run(`client-${n}`, `troupe-ctl send ready ip=10.0.0.${n + 1} n=${n} && troupe-ctl wait go --timeout 10s && troupe-ctl sync done`);
  const [s, c1, c2] = await Promise.all([server, client(1), client(2)]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(
    (await readFile(join(scratch, "all.out"), "utf8")).trim(),
    "client-1:ip=10.0.0.2\nclient-1:n=1\nclient-2:ip=10.0.0.3\nclient-2:n=2",
  );
  for (const c of [c1, c2]) assert.deepEqual([c.code, c.stdout, c.stderr], [0, "mode=fast lane\n", ""]);
});

test("locks: mutual exclusion across hosts and several processes per host", async () => {
  const probe = join(scratch, "inside");
  // mkdir is atomic: it fails if someone else is inside.
  const body = `troupe-ctl lock x -- sh -c 'mkdir ${probe} || exit 99; sleep 0.05; rmdir ${probe}' || exit $?`;
  const script = `pids=; for p in 1 2 3; do ( for i in 1 2; do ${body}; done ) & pids="$pids $!"; done; st=0; for j in $pids; do wait $j || st=$?; done; exit $st`;
  const rs = await Promise.all([f.run("client-1", script), f.run("client-2", script)]);
  for (const r of rs) assert.equal(r.code, 0, `a lock let two holders in, or failed: ${r.stderr}`);
  assert.equal(f.session.service.locks.holder("x"), undefined);
  const st = await f.run("server", "troupe-ctl lock x -- sh -c 'exit 7'");
  assert.equal(st.code, 7, "lock exits with CMD's status");
  // A long command line makes troupe-ctl switch to the C locale; CMD still gets the caller's.
  const long = "y".repeat(300);
  const lc = await f.run("server", `unset LC_ALL; troupe-ctl lock "${long}" -- sh -c 'echo "\${LC_ALL-unset} \${#1}"' sh "${long}"`);
  assert.deepEqual([lc.code, lc.stdout], [0, "unset 300\n"], lc.stderr);
});

test("a lock held by a SIGKILLed troupe-ctl is given back", async () => {
  const r = await f.run(
    "client-1",
    `troupe-ctl lock k -- sleep 30 & pid=$!; sleep 0.3; kill -9 $pid; wait $pid; troupe-ctl lock k --timeout 5s -- echo got`,
  );
  assert.deepEqual([r.code, r.stdout], [0, "got\n"], r.stderr);
});

test("50 concurrent callers on one host each get their own answer", async () => {
  const out = join(scratch, "many");
  const pending = f.run(
    "client-2",
    `mkdir -p ${out}; i=0; while [ $i -lt 50 ]; do troupe-ctl kv get "key $i" --wait --timeout 20s > ${out}/$i & i=$((i+1)); done; wait`,
  );
  // Wait until all 50 are really waiting, then answer them in reverse order.
  for (let i = 0; i < 200 && f.session.service.pendingWaits < 50; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(f.session.service.pendingWaits, 50);
  for (let i = 49; i >= 0; i--) f.session.sync.kv.set(`key ${i}`, `value "${i}"\twith tab`);
  const r = await pending;
  assert.equal(r.code, 0, r.stderr);
  const files = await readdir(out);
  assert.equal(files.length, 50);
  for (let i = 0; i < 50; i++) assert.equal(await readFile(join(out, String(i)), "utf8"), `value "${i}"\twith tab\n`);
});

test("arguments with spaces, quotes, newlines, backslashes, = and non-ASCII survive, also past one chunk", async () => {
  const pem = Array.from({ length: 150 }, (_, i) => `line ${i} ${"é\\ ".repeat(20)}`).join("\n");
  const values = [
    "a  b",
    `"dq" 'sq'`,
    "line1\nline2\n",
    "\n",
    "back\\slash \\n",
    "k=v=w",
    "",
    "\t lead\r",
    "é中",
    "x".repeat(1000) + " y",
    pem,
  ];
  for (const v of values) {
    const r = await f.run("server", 'troupe-ctl kv set "$V" "$V" && troupe-ctl kv get "$V"', { env: { V: v } });
    assert.equal(r.code, 0, r.stderr);
    // The shell's $(...) aside, what comes out is exactly what went in, plus troupe-ctl's newline.
    assert.equal(r.stdout, `${v}\n`);
    assert.equal(f.session.sync.kv.get(v), v);
    // The same from a task script, where troupe-ctl is a function (long values take the subshell).
    const t = await f.task("server", 'troupe-ctl kv set "$V" "x$V" && troupe-ctl kv get "$V"', { env: { V: v }, trace: false });
    assert.equal(t.code, 0, t.stdout);
    assert.equal(t.stdout, `x${v}\n`);
  }
});

test("in a task script troupe-ctl is a function of the script's shell, which keeps its options, variables and traces", async () => {
  const r = await f.task(
    "server",
    [
      "R=keep; _s=keep2; IFS=:; set -C",
      "troupe-ctl kv set 'fn key' 'a b'",
      'v=$(troupe-ctl kv get "fn key")',
      'troupe-ctl kv get missing || echo "missing: $?"',
      "troupe-ctl barrier --count 1 solo",
      'echo "v=$v R=$R _s=$_s IFS=$IFS flags=$-"',
      "type troupe-ctl",
    ].join("\n"),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^v=a b R=keep _s=keep2 IFS=: flags=\w*$/m);
  const flags = /flags=(\w*)/.exec(r.stdout)?.[1] ?? "";
  for (const c of "euxC") assert.ok(flags.includes(c), `-${c} still set: ${flags}`);
  assert.match(r.stdout, /troupe-ctl: kv get missing: not set\n(\+ .*\n)?missing: 1\n/);
  // In bash, troupe-ctl is a copy of the function under the name scripts use.
  assert.match(r.stdout, /^troupe-ctl is a function$/m);
  // The trace shows each call once, as written, not troupe-ctl's insides.
  assert.match(r.stdout, /^\+ troupe-ctl kv set '?fn key'? '?a b'?$/m);
  assert.doesNotMatch(r.stdout, /^\+ troupe_ctl /m);
  assert.doesNotMatch(r.stdout, /^\++ (troupe_ctl_|printf|read|case|\[)/m);
  assert.equal(f.session.sync.kv.get("fn key"), "a b");
});

test("in a task script, a failing troupe-ctl stops the script under set -e, and lock runs shell functions", async () => {
  const r = await f.task(
    "client-1",
    'hold() { echo "held by $(troupe-ctl self)"; }\ntroupe-ctl lock L -- hold\ntroupe-ctl kv get nothing\necho not reached',
    { trace: false },
  );
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.stdout, "held by client-1\ntroupe-ctl: kv get nothing: not set\n");
});

test("300 callers at once in one task script, more than the relay's pool of FIFOs, each get their own answer", async () => {
  const out = join(scratch, "crowd");
  const n = 300;
  const pending = f.task(
    "client-2",
    `mkdir -p ${out}; i=0; while [ $i -lt ${n} ]; do troupe-ctl kv get "crowd $i" --wait --timeout 60s > ${out}/$i & i=$((i+1)); done; wait`,
    { trace: false },
  );
  for (let i = 0; i < 600 && f.session.service.pendingWaits < n; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(f.session.service.pendingWaits, n);
  for (let i = n - 1; i >= 0; i--) f.session.sync.kv.set(`crowd ${i}`, `v${i}`);
  const r = await pending;
  assert.equal(r.code, 0, r.stdout);
  for (let i = 0; i < n; i++) assert.equal(await readFile(join(out, String(i)), "utf8"), `v${i}\n`);
  // The callers past the pool made FIFOs of their own, and removed them.
  const left = (await readdir(f.ctlDir("client-2"))).filter((e) => e.startsWith("a.x"));
  assert.deepEqual(left, []);
});

test("the relay's pool of answer FIFOs keeps its size however many calls pass", async () => {
  const r = await f.task("server", "i=0; while [ $i -lt 600 ]; do troupe-ctl kv set pool $i; i=$((i+1)); done", { trace: false });
  assert.equal(r.code, 0, r.stdout);
  assert.equal(f.session.sync.kv.get("pool"), "599");
  const entries = await readdir(f.ctlDir("server"));
  const fifos = entries.filter((e) => /^a\.\d+$/.test(e)).length;
  const claims = entries.filter((e) => /^c\.\d+$/.test(e)).length;
  assert.equal(fifos, 256, "answered FIFOs are replaced, not piled up");
  assert.ok(claims < 192, `claims of answered slots are removed in batches (${claims} left)`);
});

test("usage, help, and no relay", async () => {
  const h = await f.run("server", "troupe-ctl --help");
  assert.equal(h.code, 0);
  assert.match(h.stdout, /barrier NAME \[--count N\] \[--timeout D\]/);
  const u = await f.run("server", "troupe-ctl barrier");
  assert.equal(u.code, SYNC_EXIT.USAGE);
  assert.match(u.stderr, /troupe-ctl: barrier: missing NAME\nusage: troupe-ctl barrier NAME/);
  const l = await f.run("server", "troupe-ctl lock x echo hi");
  assert.equal(l.code, SYNC_EXIT.USAGE);
  assert.match(l.stderr, /lock: missing -- CMD/);
  const none = await f.run("server", `unset TROUPE_CTL_DIR; "$TROUPE_CTL" self`);
  assert.equal(none.code, SYNC_EXIT.UNAVAILABLE);
  assert.match(none.stderr, /TROUPE_CTL_DIR is not set/);
});

test("discovery from the shell", async () => {
  const r = await f.run("client-1", "troupe-ctl self; troupe-ctl role; troupe-ctl hosts client; troupe-ctl addr server; troupe-ctl addr");
  assert.deepEqual([r.code, r.stdout], [0, "client-1\nclient\nclient-1\nclient-2\n10.0.0.1\n10.0.0.2\n"]);
});

// Poison tests last: they poison the shared fleet's job, so they use their own.

test("killing one host's relay in the middle of a barrier fails the others within a second, naming it", async () => {
  const g = await fleet({ server: 1, client: 2 });
  try {
    const waiting = [
      g.run("server", "troupe-ctl barrier ready --timeout 10s"),
      g.run("client-2", "troupe-ctl barrier ready --timeout 10s"),
    ];
    for (let i = 0; i < 200 && g.session.service.pendingWaits < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    // The relay's whole process group, as when the host goes down.
    await g.run("client-1", 'kill -9 "-$(cat "$TROUPE_CTL_DIR/pid")"');
    const rs = await Promise.all(waiting);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    for (const r of rs) {
      assert.equal(r.code, SYNC_EXIT.POISONED);
      assert.match(
        r.stderr,
        /^troupe-ctl: barrier ready: poisoned: host client-1 failed: lost its connection to the sync service \(control session ended: killed by SIGKILL\)\n$/,
      );
    }
    const later = await g.run("server", "troupe-ctl sync again");
    assert.equal(later.code, SYNC_EXIT.POISONED, "future waits fail too");
  } finally {
    await g.close();
  }
});

test("a relay that goes silent (its shell killed, the transport none the wiser) is found by the heartbeat", async () => {
  const g = await fleet({ node: 2 }, { heartbeatMs: 50, lostAfterMs: 300 });
  try {
    const waiting = g.run("node-2", "troupe-ctl barrier ready --timeout 10s");
    const local = g.run("node-1", "troupe-ctl kv get never --wait --timeout 10s");
    for (let i = 0; i < 200 && g.session.service.pendingWaits < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    // Only the relay's shell: its forwarder lives on and keeps the session open.
    await g.run("node-1", 'kill -9 "$(cat "$TROUPE_CTL_DIR/pid")"');
    const r = await waiting;
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    assert.equal(r.code, SYNC_EXIT.POISONED);
    assert.match(
      r.stderr,
      /barrier ready: poisoned: host node-1 failed: lost its connection to the sync service \(no heartbeat from the control session for \d+ms\)/,
    );
    // The caller on the relay's own host is not left blocked: its watchdog answers.
    const l = await local;
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    assert.deepEqual([l.code, l.stderr], [SYNC_EXIT.UNAVAILABLE, "troupe-ctl: the sync relay on this host is gone\n"]);
  } finally {
    await g.close();
  }
});

test("hostFailed poisons the job: message names the host and the reason", async () => {
  const g = await fleet({ server: 1, client: 2 });
  try {
    const waiting = g.run("server", "troupe-ctl kv get never --wait --timeout 10s");
    for (let i = 0; i < 200 && g.session.service.pendingWaits < 1; i++) await new Promise((r) => setTimeout(r, 10));
    g.session.hostFailed(g.hosts[2]!, "exit status 1");
    const r = await waiting;
    assert.equal(r.code, SYNC_EXIT.POISONED);
    assert.equal(r.stderr, "troupe-ctl: kv get never: poisoned: host client-2 failed: exit status 1\n");
  } finally {
    await g.close();
  }
});

test("troupe-ctl fail propagates its reason to every host and to the orchestrator", async () => {
  const g = await fleet({ server: 1, client: 2 });
  try {
    const orch = g.session.sync.barrier("never", { timeoutMs: 10_000 });
    orch.catch(() => undefined); // checked below
    const waiting = g.run("server", "troupe-ctl barrier ready --timeout 10s");
    const failing = await g.run("client-1", `troupe-ctl fail "database didn't start: see 'log'"`);
    assert.equal(failing.code, SYNC_EXIT.POISONED);
    const r = await waiting;
    assert.equal(r.stderr, `troupe-ctl: barrier ready: poisoned: host client-1 failed: database didn't start: see 'log'\n`);
    await assert.rejects(orch, /barrier never: poisoned: host client-1 failed: database didn't start/);
  } finally {
    await g.close();
  }
});

test("closing the session answers waiting callers and removes the control dirs", async () => {
  const g = await fleet({ node: 2 });
  const dir = g.session.env(g.hosts[0]!).TROUPE_CTL_DIR as string;
  assert.ok(existsSync(join(dir, "req")));
  const waiting = g.run("node-1", "troupe-ctl barrier forever --timeout 10s");
  for (let i = 0; i < 200 && g.session.service.pendingWaits < 1; i++) await new Promise((r) => setTimeout(r, 10));
  await g.session.close();
  const r = await waiting;
  assert.equal(r.code, SYNC_EXIT.UNAVAILABLE);
  assert.match(r.stderr, /barrier forever: the job's sync session is closed/);
  assert.equal(existsSync(dir), false);
  const gone = await g.run("node-1", "troupe-ctl self");
  assert.notEqual(gone.code, 0, "troupe-ctl went with the control dir");
  await g.close();
});
