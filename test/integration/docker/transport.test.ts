// The exec transport on a real container: streams apart, exit status,
// stdin, environment, working directory, long scripts, files both ways,
// and an abort that kills the script's whole process group.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import * as tar from "tar";
import { DockerExecTransport } from "../../../src/backends/docker/exec-transport.js";
import { removeContainer } from "../../../src/backends/docker/containers.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api } from "./helpers.js";
import { TEST_IMAGE, testImage } from "./image.js";

let id = "";
let t: DockerExecTransport;

before(async () => {
  await testImage(api);
  ({ Id: id } = await api.json<{ Id: string }>("POST", "/containers/create", "create", {
    json: {
      Image: TEST_IMAGE,
      Entrypoint: ["sleep"],
      Cmd: ["infinity"],
      Labels: { "troupe-transport-test": "1" },
      HostConfig: { Init: true },
    },
  }));
  await api.json("POST", `/containers/${id}/start`, "start");
  t = new DockerExecTransport(api, id, "c");
});

after(async () => {
  await t.close();
  await removeContainer(api, id);
});

async function run(script: string, o: Partial<Parameters<DockerExecTransport["exec"]>[0]> = {}) {
  let out = "";
  let err = "";
  const r = await t.exec({ script, onStdout: (c) => (out += c.toString()), onStderr: (c) => (err += c.toString()), ...o });
  return { ...r, out, err };
}

test("stdout and stderr apart, the exit status, env and cwd", async () => {
  const r = await run('echo out; echo err >&2; echo "$A $B"; pwd; exit 42', { env: { A: "it's", B: "$HOME" }, cwd: "/etc" });
  assert.deepEqual(r, { exitCode: 42, signal: null, out: "out\nit's $HOME\n/etc\n", err: "err\n" });
  const bad = await run("true", { cwd: "/nonexistent" });
  assert.equal(bad.exitCode, 1);
  assert.match(bad.err, /nonexistent/);
});

test("stdin, as a string and as a stream", async () => {
  assert.equal((await run("wc -c", { stdin: "x".repeat(100_000) })).out.trim(), "100000");
  assert.equal((await run("cat", { stdin: Readable.from([Buffer.from("a"), Buffer.from("b\n")]) })).out, "ab\n");
});

test("a script longer than one argument is run from a file, removed afterwards", async () => {
  const script = `x='${"y".repeat(300_000)}'\necho \${#x}\nls /tmp | grep -c troupe-script || true`;
  const r = await run(script);
  assert.equal(r.exitCode, 0, r.err);
  assert.equal(r.out, "300000\n0\n");
});

/** The test's sleep processes in the container, read from /proc (the image may have no ps). */
async function sleepers(): Promise<string[]> {
  const r = await run("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done");
  return r.out.split("\n").filter((l) => /^sleep 743[34] $/.test(l));
}

test("an abort kills the script's whole process group", async () => {
  const ac = new AbortController();
  let out = "";
  let running = 0;
  const p = t.exec({
    script: "sleep 7433 & sleep 7434 & echo started; wait",
    onStdout: (c) => {
      out += c.toString();
      if (out.includes("started")) void sleepers().then((found) => ((running = found.length), ac.abort()));
    },
    signal: ac.signal,
  });
  const r = await p;
  assert.equal(running, 2, "both sleeps were running before the abort");
  assert.equal(r.exitCode, null);
  assert.equal((await sleepers()).length, 0);
});

test("put unpacks a tar (plain or gzip) into a new directory; get returns one", async () => {
  const src = mkdtempSync(join(tmpdir(), "troupe-put-"));
  writeFileSync(join(src, "a.txt"), "A\n");
  writeFileSync(join(src, "b.txt"), "B\n");
  await t.put(tar.create({ cwd: src }, ["a.txt"]) as unknown as Readable, "/srv/new/dir");
  await t.put(tar.create({ cwd: src, gzip: true }, ["b.txt"]) as unknown as Readable, "/srv/new/dir");
  assert.equal((await run("cat /srv/new/dir/a.txt /srv/new/dir/b.txt")).out, "A\nB\n");
  const got = await t.get("/srv/new", ["dir/a.txt"]);
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({ onReadEntry: (e) => (names.push(e.path), e.resume()) });
    got.once("error", reject);
    parser.once("end", resolve);
    got.pipe(parser);
  });
  assert.deepEqual(names, ["dir/a.txt"]);
  await assert.rejects(async () => {
    for await (const c of await t.get("/srv/new", ["missing"])) void c;
  }, /tar failed in \/srv\/new: .*missing/);
});

test("get streams a large file at the reader's pace", async () => {
  assert.equal((await run("head -c 30000000 /dev/urandom > /tmp/big")).exitCode, 0);
  const got = await t.get("/tmp", ["big"]);
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({
      onReadEntry: (e) => {
        e.on("data", (c: Buffer) => (size += c.length));
      },
    });
    got.once("error", reject);
    parser.once("end", resolve);
    got.pipe(parser);
  });
  assert.equal(size, 30_000_000);
});
