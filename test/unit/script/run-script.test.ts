import assert from "node:assert/strict";
import { test } from "node:test";
import { runAdhocScript } from "../../../src/backends/adhoc/script.js";
import { runScript } from "../../../src/script/run-script.js";
import type { OutputLine } from "../../../src/script/result.js";
import { LocalTransport } from "../../../src/transport/local.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/transport.js";

const local = new LocalTransport({ label: "script" });

/** A transport that prints the given chunks (the boundary this test needs to place exactly), then exits. */
function chunked(chunks: readonly Buffer[], exitCode = 0): Transport {
  return {
    label: "chunked",
    exec(o: ExecOptions): Promise<ExecResult> {
      for (const c of chunks) o.onStdout?.(c);
      return Promise.resolve({ exitCode, signal: null });
    },
    put: () => Promise.reject(new Error("unused")),
    get: () => Promise.reject(new Error("unused")),
    close: () => Promise.resolve(),
  };
}

test("success and exit status, with each stream's lines and the output's end", async () => {
  const lines: OutputLine[] = [];
  const ok = await runScript({ transport: local, script: "echo one; echo two; echo three >&2", onLine: (l) => lines.push(l) });
  assert.equal(ok.ok, true);
  assert.equal(ok.exitCode, 0);
  // Each stream's lines in order; the two streams are two pipes, so their order between them is the kernel's.
  const of = (stream: string): string[] => lines.filter((l) => l.stream === stream).map((l) => l.text);
  assert.deepEqual(of("stdout"), ["one", "two"]);
  assert.deepEqual(of("stderr"), ["three"]);
  assert.deepEqual(ok.output.split("\n").sort(), ["", "one", "three", "two"]);
  const bad = await runScript({ transport: local, script: "exit 3" });
  assert.deepEqual([bad.ok, bad.exitCode, bad.failure?.kind, bad.failure?.message], [false, 3, "exit", "exit status 3"]);
});

test("markers: on the control stream (hidden from output) or on the output's last line", async () => {
  const control = await runScript({
    transport: local,
    script: { text: "echo working; echo '<FATAL disk gone>'; echo '<FATAL disk gone>' >&2; exit 213", markers: "control" },
  });
  assert.deepEqual([control.failure?.kind, control.failure?.message, control.marker?.kind], ["marker", "disk gone", "FATAL"]);
  assert.equal(control.output, "working\n<FATAL disk gone>\n", "the marker shows once");
  const out = await runScript({ transport: local, script: { text: "echo '<ERROR try later>'; exit 213", markers: "output" } });
  assert.deepEqual([out.failure?.kind, out.marker?.arg], ["marker", "try later"]);
  const none = await runScript({ transport: local, script: "echo '<ERROR x>'; exit 213" });
  assert.equal(none.failure?.kind, "exit", "a plain command has no markers");
});

test("kill-timeout and interrupt kill the script and say which", async () => {
  const t = await runScript({ transport: local, script: "echo started; exec sleep 30", killMs: 200 });
  assert.deepEqual([t.failure?.kind, t.failure?.message, t.exitCode], ["timeout", "kill-timeout reached", null]);
  const ac = new AbortController();
  const i = runScript({
    transport: local,
    script: "echo ready; exec sleep 30",
    signal: ac.signal,
    onLine: (l) => {
      if (l.text === "ready") ac.abort();
    },
  });
  assert.equal((await i).failure?.kind, "interrupt");
});

test("warnings carry what was printed since the last one", async () => {
  const seen: string[] = [];
  const r = await runScript({
    transport: local,
    script: "echo first; read x < /dev/null || true; exec sleep 30",
    warnMs: 100,
    killMs: 450,
    onWarn: (_ms, text) => seen.push(text),
  });
  assert.equal(r.failure?.kind, "timeout");
  assert.ok(seen.length >= 2, `warnings: ${seen.length}`);
  assert.equal(seen[0]?.trim(), "first");
  assert.equal(seen[1]?.trim(), "", "nothing new since the first warning");
});

test("a transport that cannot run the script is a result, not a throw", async () => {
  const broken = new LocalTransport({ label: "broken", shell: "/nonexistent/sh" });
  const r = await runScript({ transport: broken, script: "true" });
  assert.deepEqual([r.ok, r.failure?.kind, r.exitCode], [false, "transport", null]);
  assert.ok(r.failure?.cause instanceof Error);
});

test("the output kept is bounded; the streams are kept only when asked", async () => {
  const r = await runScript({
    transport: local,
    script: "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done",
    capture: { output: 100, stdout: 50 },
  });
  assert.ok(r.output.length <= 100, `${r.output.length}`);
  assert.equal(r.truncated, true);
  assert.ok(r.output.endsWith("line-1999\n"));
  assert.ok(r.stdout.length <= 50 && r.stdout.endsWith("line-1999\n"));
  assert.equal(r.stderr, "");
  assert.ok(r.printed > 10_000);
});

test("UTF-8 split across chunks is decoded whole: exec and adhoc scripts alike", async () => {
  const bytes = Buffer.from("café\n", "utf8");
  const cut = bytes.indexOf(0xc3) + 1;
  const lines: string[] = [];
  await runScript({ transport: chunked([bytes.subarray(0, cut), bytes.subarray(cut)]), script: "x", onLine: (l) => lines.push(l.text) });
  assert.deepEqual(lines, ["café"]);
  const adhoc: string[] = [];
  const out = await runAdhocScript({
    script: "x",
    cwd: "/",
    env: {},
    transport: chunked([bytes.subarray(0, cut), bytes.subarray(cut), Buffer.from("<ADDRESS 10.0.0.1>\n")]),
    onLine: (l) => adhoc.push(l),
  });
  assert.deepEqual(adhoc, ["café", "<ADDRESS 10.0.0.1>"]);
  assert.equal(out.kind === "ok" && out.results["ADDRESS"], "10.0.0.1");
});
