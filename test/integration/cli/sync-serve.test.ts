// `troupe sync serve` through the CLI, with troupe-ctl run by processes
// troupe did not start (plain shells, as two terminals or two CI jobs would):
// they meet at a barrier and pass a value; a wrong token is refused; a
// killed caller leaves nothing behind; SIGTERM stops the server and a
// caller still waiting exits with a clear error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, troupe, troupeAsync } from "./helpers.js";
import { freePort } from "../../../src/util/free-port.js";

const CTL = join(REPO, "share", "troupe-ctl");

/** The lines a process writes on a stream, and a way to wait for one. */
class Lines {
  readonly all: string[] = [];
  private rest = "";
  private readonly waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (this.rest + chunk).split("\n");
      this.rest = parts.pop() ?? "";
      for (const line of parts) {
        this.all.push(line);
        for (const w of [...this.waiters]) {
          if (w.re.test(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
  }

  /** The first line (already written or to come) that matches. */
  next(re: RegExp): Promise<string> {
    const seen = this.all.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  get text(): string {
    return this.all.join("\n") + this.rest;
  }
}

interface Server {
  readonly child: ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
  /** What the server told a shell to set. */
  readonly env: Record<string, string>;
  readonly exited: Promise<number | null>;
}

async function serve(args: readonly string[], env: Record<string, string> = {}): Promise<Server> {
  const child = troupeAsync(["sync", "serve", ...args], { env });
  const stdout = new Lines(child.stdout!);
  const stderr = new Lines(child.stderr!);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const addr = await Promise.race([stdout.next(/^TROUPE_SYNC=/), exited.then(() => "")]);
  assert.ok(addr, `troupe sync serve did not start: ${stderr.text}`);
  const token = await stdout.next(/^(TROUPE_SYNC_TOKEN=|# TROUPE_SYNC_TOKEN)/);
  // A token the server made is printed as it is; one from a file, as $(cat FILE).
  const made = /^TROUPE_SYNC_TOKEN=[0-9a-f]+;/.test(token);
  const value = (line: string): string => line.slice(line.indexOf("=") + 1, line.indexOf(";"));
  return {
    child,
    stdout,
    stderr,
    exited,
    env: { TROUPE_SYNC: value(addr), ...(made ? { TROUPE_SYNC_TOKEN: value(token) } : {}) },
  };
}

interface Shell {
  readonly child: ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
  readonly done: Promise<number | null>;
}

/** A shell script that calls troupe-ctl (`$CTL`), in a process of its own: not one troupe started. */
function shell(sh: string, script: string, env: Record<string, string>): Shell {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TROUPE_")));
  const child = spawn(sh, ["-c", script], { env: { ...clean, CTL, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const done = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, stdout: new Lines(child.stdout), stderr: new Lines(child.stderr), done };
}

async function stop(s: Server): Promise<void> {
  if (s.child.exitCode === null) s.child.kill("SIGTERM");
  await s.exited;
}

test("two independent shells meet at a barrier and pass a kv value through troupe sync serve", async () => {
  const s = await serve(["--hosts", "2", "-v"]);
  try {
    // dash runs troupe-ctl, which runs itself again with bash for /dev/tcp.
    const a = shell("dash", `sh "$CTL" barrier ready && sh "$CTL" kv get greeting --wait && sh "$CTL" self`, {
      ...s.env,
      TROUPE_HOST: "job-a",
    });
    await s.stderr.next(/^troupe sync: job-a: barrier ready$/);
    const b = shell(
      "bash",
      `"$CTL" --as job-b kv set greeting "hello from b" && "$CTL" --as job-b barrier ready && "$CTL" --as job-b addr job-a`,
      s.env,
    );
    assert.equal(await b.done, 0, b.stderr.text);
    assert.equal(await a.done, 0, a.stderr.text);
    assert.deepEqual(a.stdout.all, ["hello from b", "job-a"]);
    assert.deepEqual(b.stdout.all, ["127.0.0.1"]);
    // job-a's barrier was answered only once job-b arrived.
    const log = s.stderr.all;
    const bArrives = log.indexOf("troupe sync: job-b: barrier ready");
    const aPasses = log.findIndex((l) => l.startsWith("troupe sync: job-a: barrier ready: 0 after"));
    assert.ok(bArrives >= 0 && aPasses > bArrives, log.join("\n"));
    assert.ok(log.includes("troupe sync: job-a joined (from 127.0.0.1)"), log.join("\n"));
  } finally {
    await stop(s);
  }
});

test("a wrong token is refused with exit status 77 and a line that says so; the server serves on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-syncserve-"));
  const file = join(dir, "token");
  writeFileSync(file, "0123456789abcdef0123456789abcdef\n", { mode: 0o600 });
  const s = await serve(["--token-file", file, "--hosts", "2"]);
  try {
    assert.match(s.stdout.all[1] ?? "", /^TROUPE_SYNC_TOKEN=\$\(cat '\/tmp\/troupe-syncserve-.*\/token'\); export TROUPE_SYNC_TOKEN$/);
    const wrong = shell("sh", `"$CTL" kv set k v`, {
      TROUPE_SYNC: s.env.TROUPE_SYNC!,
      TROUPE_SYNC_TOKEN: "ffffffffffffffffffffffffffffffff",
    });
    assert.equal(await wrong.done, 77);
    assert.match(wrong.stderr.text, /^troupe-ctl: refused: wrong token for the sync server "sync" at 127\.0\.0\.1:\d+/);
    const none = shell("sh", `"$CTL" kv set k v`, { TROUPE_SYNC: s.env.TROUPE_SYNC! });
    assert.equal(await none.done, 77);
    assert.match(none.stderr.text, /TROUPE_SYNC_TOKEN is not set/);
    // Nothing the refused caller asked was done; the right token still works.
    const right = shell("sh", `TROUPE_SYNC_TOKEN=$(cat "${file}") "$CTL" kv get k`, { TROUPE_SYNC: s.env.TROUPE_SYNC! });
    assert.equal(await right.done, 1, right.stderr.text);
    assert.match(right.stderr.text, /kv get k: not set/);
  } finally {
    await stop(s);
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  test(`${sig} stops the server: a waiting troupe-ctl exits 69 saying so, and the token file it made is gone`, async () => {
    const s = await serve(["--hosts", "2", "-v"]);
    const tokenFile = /token in (\S+) \(removed at exit\)/.exec(await s.stderr.next(/token in /))?.[1];
    assert.ok(tokenFile && existsSync(tokenFile), s.stderr.text);
    const waiter = shell("sh", `"$CTL" barrier never`, { ...s.env, TROUPE_HOST: "lonely" });
    await s.stderr.next(/^troupe sync: lonely: barrier never$/);
    s.child.kill(sig);
    assert.equal(await waiter.done, 69);
    assert.match(
      waiter.stderr.text,
      new RegExp(`^troupe-ctl: barrier never: .*the sync server "sync" at 127\\.0\\.0\\.1:\\d+ stopped \\(${sig}\\)$`),
    );
    assert.equal(await s.exited, 0, s.stderr.text);
    assert.equal(existsSync(tokenFile), false);
    // Nobody listens any more: troupe-ctl says so.
    const late = shell("sh", `"$CTL" kv get k`, s.env);
    assert.equal(await late.done, 69);
    assert.match(late.stderr.text, /cannot reach the sync server at 127\.0\.0\.1:\d+/);
  });
}

test("a killed troupe-ctl gives back its lock and its barrier arrival", async () => {
  const s = await serve(["--hosts", "2", "-v"]);
  try {
    // The command under the lock ends when troupe-ctl does (tail --pid): nothing outlives the test.
    const holder = shell("sh", `exec "$CTL" lock disk -- sh -c 'exec tail -f /dev/null --pid=$PPID'`, { ...s.env, TROUPE_HOST: "holder" });
    await s.stderr.next(/^troupe sync: holder: lock disk: 0 after/);
    const early = shell("sh", `exec "$CTL" barrier meet`, { ...s.env, TROUPE_HOST: "early" });
    await s.stderr.next(/^troupe sync: early: barrier meet$/);
    // SIGKILL: no trap runs; the connection closing is all the server learns.
    holder.child.kill("SIGKILL");
    early.child.kill("SIGKILL");
    await Promise.all([holder.done, early.done]);
    await s.stderr.next(/^troupe sync: early: barrier meet: 69 \(barrier meet: cancelled\)/);
    const next = shell("sh", `"$CTL" lock disk -- echo got it`, { ...s.env, TROUPE_HOST: "next" });
    assert.equal(await next.done, 0, next.stderr.text);
    assert.deepEqual(next.stdout.all, ["got it"]);
    // The killed arrival does not count: one more caller does not pass the barrier alone.
    const one = shell("sh", `"$CTL" barrier meet --timeout 0`, { ...s.env, TROUPE_HOST: "one" });
    assert.equal(await one.done, 124, one.stderr.text);
  } finally {
    await stop(s);
  }
});

test("bad starts and bad calls say what to do", async () => {
  assert.equal(troupe(["sync", "ctl-path"]).stdout, `${CTL}\n`);
  const open = troupe(["sync", "serve", "--listen", "0.0.0.0:0"], { env: { TROUPE_SYNC_TOKEN: "" } });
  assert.equal(open.status, 2);
  assert.match(open.stderr, /needs a token: --token-file F or TROUPE_SYNC_TOKEN/);
  const short = troupe(["sync", "serve"], { env: { TROUPE_SYNC_TOKEN: "secret" } });
  assert.equal(short.status, 2);
  assert.match(short.stderr, /TROUPE_SYNC_TOKEN: a sync token is 32 to 512 lowercase hex digits/);
  const s = await serve([]);
  try {
    const b = shell("sh", `"$CTL" barrier ready`, { ...s.env, TROUPE_HOST: "x" });
    assert.equal(await b.done, 64);
    assert.match(b.stderr.text, /started without --hosts N: give --count N/);
    const name = shell("sh", `"$CTL" self`, { ...s.env, TROUPE_HOST: "no/slash" });
    assert.equal(await name.done, 64);
    assert.match(name.stderr.text, /"no\/slash" is not a participant's name/);
  } finally {
    await stop(s);
  }
});

test("with TROUPE_SYNC_RETRY a caller that comes before the server waits for it, as a CI job started first would", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-syncserve-"));
  const file = join(dir, "token");
  writeFileSync(file, "fedcba9876543210fedcba9876543210\n", { mode: 0o600 });
  const port = await freePort();
  const env = { TROUPE_SYNC: `127.0.0.1:${port}`, TROUPE_SYNC_TOKEN: "fedcba9876543210fedcba9876543210", TROUPE_SYNC_RETRY: "300" };
  const early = shell("sh", `"$CTL" --as early kv get url --wait`, env);
  const s = await serve(["--listen", `127.0.0.1:${port}`, "--token-file", file, "--hosts", "2"]);
  try {
    const late = shell("sh", `"$CTL" --as late kv set url http://10.0.0.2:8080/`, env);
    assert.equal(await late.done, 0, late.stderr.text);
    assert.equal(await early.done, 0, early.stderr.text);
    assert.deepEqual(early.stdout.all, ["http://10.0.0.2:8080/"]);
  } finally {
    await stop(s);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a lock holder whose server stops while its command runs exits with the command's status", async () => {
  const s = await serve(["--hosts", "2", "-v"]);
  // The command ends when the server has gone (tail --pid), with a status of its own.
  const holder = shell("sh", `"$CTL" lock L -- sh -c 'tail -f /dev/null --pid=${s.child.pid}; exit 7'`, {
    ...s.env,
    TROUPE_HOST: "holder",
  });
  await s.stderr.next(/^troupe sync: holder: lock L: 0 after/);
  s.child.kill("SIGTERM");
  assert.equal(await s.exited, 0, s.stderr.text);
  assert.equal(await holder.done, 7, holder.stderr.text);
  assert.equal(holder.stderr.text, "");
});
