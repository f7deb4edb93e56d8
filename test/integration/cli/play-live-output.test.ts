// `troupe play` shows what steps and services print as it comes, not when
// the step ends. Each scenario here prints a line and then blocks until the
// test connects to a TCP port the line names; the test connects only once it
// has seen the line (on troupe's stdout, or in the live dashboard's host
// log). If output were held until the step ends, the test would never
// connect: the host gives up after its own bound (the listener's timeout,
// the step's `timeout:`), the scenario fails, and so does the test, rather
// than hanging.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { get } from "node:http";
import { connect } from "node:net";
import { labLeftovers, privateTmp, project, troupeAsync } from "./helpers.js";

/** Python on the host: listen on a free port, say so on stdout, wait (at most 60 s) for one connection, say so. */
const LISTEN = `/usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.bind(("0.0.0.0", 0))
s.listen(1)
s.settimeout(60)
print("listening on port %d" % s.getsockname()[1], flush=True)
c, _ = s.accept()
print("connected", flush=True)
c.close()
'`;

interface Watched {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  text(): string;
  /** The first match of `re` in the output, or undefined if troupe exited without printing it. */
  until(re: RegExp): Promise<RegExpMatchArray | undefined>;
  /** troupe's exit status. */
  readonly exit: Promise<number | null>;
}

function watch(args: readonly string[], cwd: string, env: Record<string, string> = {}): Watched {
  const child = troupeAsync(args, { cwd, env });
  let out = "";
  const waiters: (() => void)[] = [];
  const onData = (c: Buffer): void => {
    out += c.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    text: () => out,
    exit,
    until: (re) =>
      new Promise((resolve) => {
        const check = (): void => {
          const m = re.exec(out);
          if (!m) return;
          waiters.splice(waiters.indexOf(check), 1);
          resolve(m);
        };
        waiters.push(check);
        check();
        void exit.then(() => resolve(re.exec(out) ?? undefined));
      }),
  };
}

/** Connect to host:port and close: what the host is waiting for. */
function knock(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => {
      s.end();
      resolve();
    });
    s.on("error", reject);
  });
}

function scenario(backend: "local" | "lab", job: string): string {
  return `hosts:
  - names: n1
    backend: ${backend}
stages:
  - name: talk
    jobs:
${job}`;
}

const STEP = `      - name: wait for the test
        timeout: 90s
        run: |
          ${LISTEN.split("\n").join("\n          ")}
`;

async function stepIsLive(backend: "local" | "lab"): Promise<void> {
  const tmp = privateTmp();
  const dir = project({ "s.yaml": scenario(backend, STEP) });
  const w = watch(["play", "s.yaml"], dir, { TMPDIR: tmp });
  const addr = (await w.until(/Allocated n1 \(\w+:\w+\) at ([\d.]+)\./))?.[1];
  assert.ok(addr, w.text());
  const line = await w.until(/^n1: listening on port (\d+)$/m);
  // Seen while the step still runs: the step's own end has not been said yet.
  assert.ok(line, `the line never came alone:\n${w.text()}`);
  assert.doesNotMatch(w.text(), /wait for the test: (ok|FAILED)/);
  await knock(addr, Number(line[1]));
  assert.equal(await w.exit, 0, w.text());
  assert.match(w.text(), /^n1: connected$/m);
  if (backend === "lab") assert.deepEqual(labLeftovers(w.child.pid!, tmp), []);
}

test("a step's line reaches the terminal while the step runs (local host)", async () => {
  await stepIsLive("local");
});

test("a step's line reaches the terminal while the step runs (lab host)", async () => {
  await stepIsLive("lab");
});

test("a service's line reaches the terminal while it runs, before the scenario ends", async () => {
  const dir = project({
    "s.yaml": `hosts:
  - names: n1
stages:
  - name: start
    jobs:
      - name: listener
        service: |
          ${LISTEN.split("\n").join("\n          ")}
          touch knocked
          exec sleep 600
  - name: until the test knocked
    jobs:
      - timeout: 90s
        run: while [ ! -e knocked ]; do sleep 0.1; done; echo the service was reached
`,
  });
  const w = watch(["play", "s.yaml"], dir);
  const line = await w.until(/^n1: listening on port (\d+)$/m);
  assert.ok(line, `the service's line never came while it ran:\n${w.text()}`);
  await knock("127.0.0.1", Number(line[1]));
  assert.equal(await w.exit, 0, w.text());
  assert.match(w.text(), /^n1: connected\n(.*\n)*n1: the service was reached$/m);
});

/** GET a file of the live dashboard. */
function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    }).on("error", reject);
  });
}

test("--serve: the dashboard's host log has a step's line while the step runs", async () => {
  const dir = project({ "s.yaml": scenario("local", STEP) });
  const w = watch(["play", "--serve", "s.yaml"], dir);
  const url = (await w.until(/^Live dashboard: (http:\/\/\S+\/)$/m))?.[1];
  assert.ok(url, w.text());
  await w.until(/^n1: listening on port \d+$/m);
  // The terminal has the line; the served log gets it from the same event. Ask until it is
  // there (each answer is awaited: no timer), or troupe ended (the step gave up).
  let port: number | undefined;
  let done = false;
  void w.exit.then(() => (done = true));
  while (port === undefined && !done) {
    const log = await fetchText(`${url}logs/n1.log`).catch(() => "");
    const m = /wait for the test: listening on port (\d+)$/m.exec(log);
    if (m) port = Number(m[1]);
  }
  assert.ok(port, `the dashboard's log never had the line while the step ran:\n${w.text()}`);
  await knock("127.0.0.1", port);
  assert.equal(await w.exit, 0, w.text());
});
